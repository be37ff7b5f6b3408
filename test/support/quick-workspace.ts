/**
 * For tests of the wg-quick verbs: `ferry up|down|save|strip` (and stock wg-quick) run
 * inside a namespace, and a workspace of config files and ferryd wrappers whose cleanup
 * removes every interface (and with it its daemon) before the namespaces go.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlRequest } from '../../src/control/control-client.js';
import { tryRun, type Netns, type Scope } from './netns.js';
import { REPO } from './wg.js';

export const CLI = join(REPO, 'test/support/ferry-quick-cli.ts');

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The "[#] …" lines, without the prefix. */
  traces: string[];
}

export function traced(r: { status: number | null; stdout: string; stderr: string }): Run {
  return { ...r, traces: r.stderr.split('\n').filter((l) => l.startsWith('[#] ')).map((l) => l.slice(4)) };
}

export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.LOG_LEVEL; // a daemon with LOG_LEVEL keeps our pipes open
  delete env.WG_PROCESS_FOREGROUND;
  return env;
}

/** `ferry VERB ARG` inside a namespace. */
export function ferry(ns: Netns, verb: string, arg: string, env: Record<string, string> = {}): Run {
  const r = spawnSync('ip', ['netns', 'exec', ns.name, process.execPath, '--import', 'tsx', CLI, verb, arg], { cwd: REPO, env: cleanEnv(env), encoding: 'utf8', timeout: 90_000 });
  return traced({ status: r.status, stdout: r.stdout, stderr: r.stderr });
}

/** The stock wg-quick inside a namespace. */
export function wgQuick(ns: Netns, verb: string, arg: string, env: Record<string, string> = {}): Run {
  const r = spawnSync('ip', ['netns', 'exec', ns.name, 'wg-quick', verb, arg], { cwd: '/', env: cleanEnv(env), encoding: 'utf8', timeout: 90_000 });
  return traced({ status: r.status, stdout: r.stdout, stderr: r.stderr });
}

export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface Workspace {
  dir: string;
  /** FERRYD for `ferry up`: a wrapper that logs to `log`. */
  ferryd: string;
  /** A plain wrapper, for WG_QUICK_USERSPACE_IMPLEMENTATION. */
  ferrydPlain: string;
  log: string;
  /** Writes NAME.conf (mode 0600) and returns its path. */
  config(ifname: string, text: string): string;
  /** Has the cleanup remove this interface (and its daemon) from this namespace. */
  track(ns: Netns, ifname: string): void;
}

/**
 * A temp dir with the config files and ferryd wrappers, and one cleanup that runs before
 * the namespaces go (registered first): interfaces deleted (their daemons exit with them),
 * daemons still alive killed, sockets removed.
 */
export function workspace(t: Scope & { diagnostic(msg: string): void }): Workspace {
  const interfaces: { ns: Netns; ifname: string }[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'ferry-quick-'));
  chmodSync(dir, 0o700);
  const log = join(dir, 'ferryd.log');
  const ferryd = join(dir, 'ferryd-logged');
  const ferrydPlain = join(dir, 'ferryd');
  const ferrydScript = join(REPO, 'src/cli/ferryd.ts');
  writeFileSync(ferryd, `#!/bin/sh\ncd '${REPO}' || exit 1\nLOG_LEVEL=info exec '${process.execPath}' --import tsx '${ferrydScript}' "$@" >>'${log}' 2>&1\n`, { mode: 0o755 });
  writeFileSync(ferrydPlain, `#!/bin/sh\ncd '${REPO}' || exit 1\nexec '${process.execPath}' --import tsx '${ferrydScript}' "$@"\n`, { mode: 0o755 });
  t.after(async () => {
    for (const { ns, ifname } of interfaces) {
      let pid = 0;
      try {
        pid = ((await controlRequest(ifname, 'status', {}, undefined, 2000)) as { pid: number }).pid;
      } catch {
        // not a ferryd, or gone
      }
      tryRun('ip', ['-n', ns.name, 'link', 'del', ifname]);
      if (pid > 0) {
        for (let i = 0; i < 30 && alive(pid); i++) await sleep(100);
        if (alive(pid)) process.kill(pid, 'SIGKILL');
      }
      rmSync(`/var/run/wireguard/${ifname}.sock`, { force: true });
      rmSync(`/run/ferry/${ifname}.sock`, { force: true });
    }
    if (existsSync(log) && process.env.FERRY_TEST_LOG) t.diagnostic(readFileSync(log, 'utf8'));
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    ferryd,
    ferrydPlain,
    log,
    config(ifname, text) {
      const path = join(dir, `${ifname}.conf`);
      writeFileSync(path, text, { mode: 0o600 });
      chmodSync(path, 0o600);
      return path;
    },
    track(ns, ifname) {
      interfaces.push({ ns, ifname });
    },
  };
}

