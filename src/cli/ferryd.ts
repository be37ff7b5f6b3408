#!/usr/bin/env node
/**
 * ferryd [-f|--foreground] INTERFACE-NAME | --up CONFIG|INTERFACE | --sidecar
 *
 * The first form behaves as the WireGuard cross-platform userspace implementation
 * interface asks (and as wireguard-go does): creates the TUN, listens on
 * /var/run/wireguard/IFNAME.sock, daemonizes unless -f or WG_PROCESS_FOREGROUND=1, and
 * exits on SIGTERM/SIGINT, when its socket file is deleted or when its interface is
 * deleted. So `wg` and `wg-quick` (WG_QUICK_USERSPACE_IMPLEMENTATION=ferryd) drive it
 * unchanged. --up and --sidecar run it as a service (service/service.ts).
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/config-file.js';
import { wgInterfaceHealth } from '../daemon/interface-health.js';
import { createLogger, logLevelFromEnv, type Logger } from '../daemon/logger.js';
import { reportStartup, runDetached, READY_FD_ENV } from '../daemon/daemonize.js';
import { CONFIG_FILE_ENV, installDaemonReload } from '../daemon/reload.js';
import { ServiceNotifier } from '../daemon/service-notifier.js';
import { WgDaemon } from '../daemon/wg-daemon.js';
import { loadNative } from '../io/native.js';
import { parseArgs, USAGE } from './ferryd-args.js';
import { httpAddressFor } from './service/http-address.js';
import { listenProbes, ServiceProbes } from './service/probes.js';
import { installServiceReload, runService } from './service/service.js';
import { runSidecar } from './service/sidecar.js';


/** The version, and whether the native addon loads: what an install checks. */
function printVersion(): number {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  try {
    loadNative();
  } catch (err) {
    process.stderr.write(`ferryd v${pkg.version}: ${(err as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`ferryd v${pkg.version} (Node ${process.version}, native addon loaded)\n`);
  return 0;
}

function startupFailed(logger: Logger, message: string, code?: string): number {
  logger.error({ code }, message);
  reportStartup(message);
  if (process.stderr.isTTY || process.env[READY_FD_ENV] === undefined) process.stderr.write(`ferryd: ${message}\n`);
  return 1;
}

/** The wireguard-go way: the interface and its sockets, configured from outside. */
async function runInterface(ifname: string, foreground: boolean): Promise<number> {
  if (!foreground) {
    // Like wireguard-go: the daemon keeps stdout/stderr only when LOG_LEVEL asks for logs.
    const level = logLevelFromEnv(process.env.LOG_LEVEL, 'silent');
    const script = realpathSync(fileURLToPath(import.meta.url));
    const { code, message } = await runDetached([script, '-f', ifname], level !== 'silent');
    if (code !== 0) process.stderr.write(`ferryd: ${message}\n`);
    return code;
  }

  const logger = createLogger('ferryd');
  const notifier = ServiceNotifier.fromEnv(logger);
  // `ferry up` names its config file: reload re-reads it, and its [Ferry] section may ask for HTTP.
  const configFile = process.env[CONFIG_FILE_ENV] || null;
  let address;
  try {
    address = httpAddressFor(process.env, configFile === null ? null : loadConfig(configFile).config);
  } catch (err) {
    return startupFailed(logger, (err as Error).message);
  }
  if ('error' in address) return startupFailed(logger, address.error);

  const probes = new ServiceProbes();
  let daemon: WgDaemon;
  let http;
  try {
    http = await listenProbes(address.http, probes, logger);
    daemon = await WgDaemon.start({ ifname, logger, configFile: configFile ?? undefined });
  } catch (err) {
    const e = err as Error & { code?: string };
    await http?.close();
    return startupFailed(logger, `cannot start interface ${ifname}: ${e.message}`, e.code);
  }
  reportStartup();
  const health = wgInterfaceHealth(daemon);
  probes.running(health);
  if (configFile !== null) installServiceReload(daemon, configFile, health, notifier, logger);
  else installDaemonReload(daemon, logger); // explains that SIGHUP has nothing to re-read
  notifier?.ready(health.summary());
  notifier?.startWatchdog();
  notifier?.startStatus(() => health.summary(), (fn) => health.onChange(fn));
  const stop = (signal: string) => {
    probes.phase = 'stopping';
    notifier?.stopping(`stopping (${signal})`);
    void daemon.shutdown(`received ${signal}`);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await daemon.exited;
  notifier?.close();
  await http?.close();
  return 0;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2), process.env);
  if ('help' in args) {
    process.stdout.write(USAGE);
    return 0;
  }
  if ('version' in args) return printVersion();
  if ('error' in args) {
    process.stderr.write(`ferryd: ${args.error}\n${USAGE}`);
    return 2;
  }
  switch (args.mode) {
    case 'interface':
      return runInterface(args.ifname, args.foreground || process.env.WG_PROCESS_FOREGROUND === '1' || process.env[READY_FD_ENV] !== undefined);
    case 'up':
      return runService({ nameOrPath: args.config, logger: createLogger('ferryd') });
    case 'sidecar':
      return runSidecar(createLogger('ferryd'));
  }
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
