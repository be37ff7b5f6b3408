#!/usr/bin/env node
/**
 * ferryd [-f|--foreground] INTERFACE-NAME
 *
 * Behaves as the WireGuard cross-platform userspace implementation interface asks (and
 * as wireguard-go does): creates the TUN, listens on /var/run/wireguard/IFNAME.sock,
 * daemonizes unless -f or WG_PROCESS_FOREGROUND=1, and exits on SIGTERM/SIGINT, when its
 * socket file is deleted or when its interface is deleted. So `wg` and `wg-quick`
 * (WG_QUICK_USERSPACE_IMPLEMENTATION=ferryd) drive it unchanged.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLogger, logLevelFromEnv } from '../daemon/logger.js';
import { reportStartup, runDetached, READY_FD_ENV } from '../daemon/daemonize.js';
import { WgDaemon } from '../daemon/wg-daemon.js';
import { CONFIG_FILE_ENV, installDaemonReload } from '../daemon/reload.js';
import { ready as notifyReady, stopping as notifyStopping } from '../io/notify.js';

const USAGE = `Usage: ferryd [-f/--foreground] INTERFACE-NAME

Creates the WireGuard interface INTERFACE-NAME (a TUN device) and its UAPI socket
/var/run/wireguard/INTERFACE-NAME.sock, then runs in the background unless -f is given
or WG_PROCESS_FOREGROUND=1. Configure it with wg(8) or ferry(8).

Environment: LOG_LEVEL=verbose|error|silent (or a pino level), WG_PROCESS_FOREGROUND=1.
`;

interface Args {
  foreground: boolean;
  ifname: string;
}

export function parseArgs(argv: string[]): Args | { help: true } | { error: string } {
  let foreground = false;
  const rest: string[] = [];
  for (const a of argv) {
    if (a === '-f' || a === '--foreground') foreground = true;
    else if (a === '-h' || a === '--help') return { help: true };
    else if (a.startsWith('-')) return { error: `unknown option ${a}` };
    else rest.push(a);
  }
  if (rest.length !== 1) return { error: rest.length === 0 ? 'missing INTERFACE-NAME' : 'too many arguments' };
  const ifname = rest[0];
  if (ifname.length > 15 || !/^[A-Za-z0-9_.=+-]+$/.test(ifname) || ifname === '.' || ifname === '..') {
    return { error: `invalid interface name "${ifname}" (at most 15 characters, no / or spaces)` };
  }
  return { foreground, ifname };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if ('help' in args) {
    process.stdout.write(USAGE);
    return 0;
  }
  if ('error' in args) {
    process.stderr.write(`ferryd: ${args.error}\n${USAGE}`);
    return 2;
  }
  const foreground = args.foreground || process.env.WG_PROCESS_FOREGROUND === '1' || process.env[READY_FD_ENV] !== undefined;
  if (!foreground) {
    // Like wireguard-go: the daemon keeps stdout/stderr only when LOG_LEVEL asks for logs.
    const level = logLevelFromEnv(process.env.LOG_LEVEL, 'silent');
    const script = realpathSync(fileURLToPath(import.meta.url));
    const { code, message } = await runDetached([script, '-f', args.ifname], level !== 'silent');
    if (code !== 0) process.stderr.write(`ferryd: ${message}\n`);
    return code;
  }

  const logger = createLogger('ferryd');
  let daemon: WgDaemon;
  try {
    const configFile = process.env[CONFIG_FILE_ENV];
    daemon = await WgDaemon.start({ ifname: args.ifname, logger, configFile: configFile === undefined || configFile === '' ? undefined : configFile });
  } catch (err) {
    const e = err as Error & { code?: string };
    const message = `cannot start interface ${args.ifname}: ${e.message}`;
    logger.error({ code: e.code }, message);
    reportStartup(message);
    if (process.stderr.isTTY || process.env[READY_FD_ENV] === undefined) process.stderr.write(`ferryd: ${message}\n`);
    return 1;
  }
  reportStartup();
  notifyReady(`interface ${daemon.ifname} up`);
  const stop = (signal: string) => {
    notifyStopping();
    void daemon.shutdown(`received ${signal}`);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  installDaemonReload(daemon, logger); // SIGHUP re-reads FERRY_CONFIG_FILE (set by ferry up)
  await daemon.exited;
  return 0;
}

main().then(
  (code) => {
    // Pino writes asynchronously; give it a turn before leaving.
    setImmediate(() => process.exit(code));
  },
  (err) => {
    process.stderr.write(`ferryd: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
