/**
 * Test hosts in network namespaces. Every name is unique per process (several sessions
 * may share a machine), and everything made is removed on cleanup, on test end and,
 * as a last resort, on process exit.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
/** Anything that can run a cleanup when its scope ends: a node:test TestContext, or a bench's own scope. */
export interface Scope {
  after(fn: () => void | Promise<void>): void;
}

let counter = 0;
const live = new Set<Netns>();
const liveLinks = new Set<string>();

/** Kills every daemon a namespace holds and deletes the namespaces and tracked links. */
function cleanupAll(): void {
  for (const ns of [...live]) ns.destroy();
  for (const l of liveLinks) tryRun('ip', ['link', 'del', l]);
  liveLinks.clear();
}

process.on('exit', cleanupAll);
// A test process killed by the runner (a file timeout) or by Ctrl-C never reaches 'exit':
// clean up, then die of the same signal.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.once(signal, () => {
    cleanupAll();
    process.kill(process.pid, signal);
  });
}

/** A name no other test process on this machine uses; at most 15 chars (IFNAMSIZ - 1). */
export function uniqueName(prefix: string): string {
  counter++;
  const id = `${process.pid.toString(36)}${counter.toString(36)}`;
  const name = `${prefix.slice(0, 15 - id.length)}${id}`;
  return name;
}

/** Runs a command, returns stdout; throws with stderr in the message on failure. */
export function run(cmd: string, args: string[], opts: { input?: string | Buffer; timeout?: number } = {}): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], input: opts.input, timeout: opts.timeout ?? 30_000 });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; status?: number };
    throw new Error(`${cmd} ${args.join(' ')} failed (status ${e.status}): ${e.stderr || e.stdout || String(err)}`);
  }
}

export function tryRun(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** Records a link made in the root namespace so cleanup removes it. */
export function trackLink(name: string): void {
  liveLinks.add(name);
}

export class Netns {
  readonly name: string;
  private children = new Set<ChildProcess>();

  constructor(prefix = 'fy') {
    this.name = uniqueName(prefix);
    run('ip', ['netns', 'add', this.name]);
    live.add(this);
    this.run('ip', ['link', 'set', 'lo', 'up']);
  }

  /** Runs a command inside the namespace and returns its stdout. */
  run(cmd: string, args: string[], opts: { input?: string | Buffer; timeout?: number } = {}): string {
    return run('ip', ['netns', 'exec', this.name, cmd, ...args], opts);
  }

  tryRun(cmd: string, args: string[]): boolean {
    return tryRun('ip', ['netns', 'exec', this.name, cmd, ...args]);
  }

  /** Starts a long-running process inside the namespace; killed on cleanup. */
  spawn(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    // Its own process group, so cleanup also reaches what it started (a shell pipeline).
    const child = spawn('ip', ['netns', 'exec', this.name, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...opts });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  /** Kills children, deletes the namespace (and with it its veth ends and moved links). */
  destroy(): void {
    for (const c of this.children) {
      try {
        if (c.pid !== undefined) process.kill(-c.pid, 'SIGKILL');
      } catch {
        c.kill('SIGKILL');
      }
    }
    this.children.clear();
    tryRun('ip', ['netns', 'del', this.name]);
    live.delete(this);
  }
}

/**
 * Joins two namespaces with a veth pair and gives each end an address.
 * Returns the interface names (a in nsA, b in nsB).
 */
export function vethPair(nsA: Netns, addrA: string, nsB: Netns, addrB: string): { a: string; b: string } {
  const a = uniqueName('fva');
  const b = uniqueName('fvb');
  run('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
  trackLink(a);
  run('ip', ['link', 'set', a, 'netns', nsA.name]);
  run('ip', ['link', 'set', b, 'netns', nsB.name]);
  liveLinks.delete(a);
  for (const [ns, dev, addr] of [[nsA, a, addrA], [nsB, b, addrB]] as const) {
    ns.run('ip', ['addr', 'add', addr, 'dev', dev]);
    ns.run('ip', ['link', 'set', dev, 'up']);
  }
  return { a, b };
}

/** Makes a namespace destroyed when the test ends, pass or fail. */
export function netns(t: Scope, prefix = 'fy'): Netns {
  const ns = new Netns(prefix);
  t.after(() => ns.destroy());
  return ns;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** True when `cmd` is on PATH. */
export function hasTool(cmd: string): boolean {
  return tryRun('sh', ['-c', `command -v ${cmd}`]);
}

/**
 * Guards an integration test: needs root and the listed tools. Under CI=true a missing
 * requirement fails the test (CI must install everything); elsewhere the test is skipped
 * with the reason, and node:test reports it as skipped, never as passed.
 * Returns false when the caller must return (skipped).
 */
export function requireHost(t: { skip(msg: string): void }, tools: string[] = []): boolean {
  const missing: string[] = [];
  if (!isRoot()) missing.push('root');
  if (!tryRun('test', ['-c', '/dev/net/tun'])) missing.push('/dev/net/tun');
  for (const tool of ['ip', ...tools]) if (!hasTool(tool)) missing.push(tool);
  if (missing.length === 0) return true;
  const msg = `needs ${missing.join(', ')}`;
  if (process.env.CI === 'true') throw new Error(`integration test cannot run under CI: ${msg}`);
  t.skip(msg);
  return false;
}

/**
 * Like requireHost, for tests that need tools but not root: skipped with the reason
 * outside CI, a failure under CI=true. Returns false when the caller must return.
 */
export function requireTools(t: { skip(msg: string): void }, tools: string[]): boolean {
  const missing = tools.filter((tool) => !hasTool(tool));
  if (missing.length === 0) return true;
  const msg = `needs ${missing.join(', ')}`;
  if (process.env.CI === 'true') throw new Error(`test cannot run under CI: ${msg}`);
  t.skip(msg);
  return false;
}
