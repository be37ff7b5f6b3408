/**
 * The parent side of a benchmark helper (see control.ts): a TypeScript program run under
 * node + tsx inside a namespace, optionally pinned to CPUs with taskset, spoken to in
 * lines on stdin/stdout.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Netns } from '../../test/support/netns.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export type Json = Record<string, unknown>;

export class LineChild {
  readonly child: ChildProcess;
  private readonly lines: AsyncIterator<string>;
  private stderrText = '';
  private exited: Promise<number | null>;

  /** script: path from the repository root, e.g. "bench/io-forwarder.ts". cpus: taskset list, e.g. "1". */
  constructor(
    readonly label: string,
    ns: Netns,
    script: string,
    args: string[],
    cpus?: string,
  ) {
    const node = [process.execPath, '--import', 'tsx', script, ...args];
    const [cmd, ...rest] = cpus === undefined ? node : ['taskset', '-c', cpus, ...node];
    this.child = ns.spawn(cmd, rest, { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, FERRY_POOL_DEBUG: '0' } });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderrText += d.toString();
      if (this.stderrText.length > 20_000) this.stderrText = this.stderrText.slice(-10_000);
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.lines = createInterface({ input: this.child.stdout! })[Symbol.asyncIterator]();
  }

  get stderr(): string {
    return this.stderrText;
  }

  /** The next JSON line; throws on timeout, exit, or an {error} line. */
  async next(timeoutMs = 15_000): Promise<Json> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.label}: no output within ${timeoutMs} ms; stderr: ${this.stderrText}`)), timeoutMs);
    });
    try {
      const r = await Promise.race([this.lines.next(), timeout]);
      if (r.done) throw new Error(`${this.label} exited (${this.child.exitCode}) without output; stderr: ${this.stderrText}`);
      const line = JSON.parse(r.value) as Json;
      if (line.error !== undefined) throw new Error(`${this.label}: ${String(line.error)}; stderr: ${this.stderrText}`);
      return line;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a command line and returns the JSON line it answers with. */
  async ask(command: string, timeoutMs = 5_000): Promise<Json> {
    this.child.stdin!.write(`${command}\n`);
    return this.next(timeoutMs);
  }

  /** Asks the child to stop and waits for it to exit (SIGKILL after timeoutMs). */
  async stop(timeoutMs = 5_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.stdin!.end('stop\n');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<null>((resolve) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        resolve(null);
      }, timeoutMs);
    });
    const code = await Promise.race([this.exited, killed]);
    clearTimeout(timer);
    await this.exited;
    return code;
  }

  /** Immediate kill (cleanup paths). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
