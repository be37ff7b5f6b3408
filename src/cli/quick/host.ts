/**
 * What the wg-quick verbs need of the machine: run a program and tell whether one exists.
 * An interface, so the whole `up`/`down` sequence can be tested against a scripted host
 * that records the commands instead of running them.
 */
import { spawn, spawnSync, type StdioOptions } from 'node:child_process';
import { constants } from 'node:os';
import type { QuickIo } from './io.js';

/** How long output may still arrive after a program exits (only a daemon holding our pipes makes this wait). */
const EXIT_GRACE_MS = 200;

export interface ExecOptions {
  /** Written to the program's stdin (a pipe); without it stdin is inherited (hooks may read it). */
  input?: string;
  /** Capture stdout and stderr and return them (queries) instead of passing them through. */
  capture?: boolean;
  /** Variables added to the environment. */
  env?: Record<string, string | undefined>;
}

export interface ExecResult {
  status: number;
  stdout: string;
  stderr: string;
}

export interface Host {
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** True when `command -v NAME` would find it (bash's `type -p`). */
  has(command: string): boolean;
}

/** Runs real programs. Output not captured goes to io (or straight to our fds when io is the process's own). */
export class SystemHost implements Host {
  constructor(private readonly io: QuickIo) {}

  has(command: string): boolean {
    return spawnSync('sh', ['-c', 'command -v "$1" >/dev/null', 'sh', command], { stdio: 'ignore' }).status === 0;
  }

  exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const own = this.io.stdout === process.stdout && this.io.stderr === process.stderr;
    const pass = own && !options.capture ? 'inherit' : 'pipe';
    const stdio: StdioOptions = [options.input !== undefined ? 'pipe' : options.capture ? 'ignore' : 'inherit', pass, pass];
    const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' };
    for (const [k, v] of Object.entries(options.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    return new Promise((resolve) => {
      let stdout = '';
      let stderr = '';
      const child = spawn(argv[0], argv.slice(1), { stdio, env });
      child.stdout?.setEncoding('utf8');
      child.stderr?.setEncoding('utf8');
      child.stdout?.on('data', (d: string) => (options.capture ? (stdout += d) : this.io.stdout.write(d)));
      child.stderr?.on('data', (d: string) => (options.capture ? (stderr += d) : this.io.stderr.write(d)));
      if (options.input !== undefined) {
        child.stdin?.on('error', () => undefined); // the program may exit without reading
        child.stdin?.end(options.input);
      }
      child.on('error', (err: NodeJS.ErrnoException) => {
        // Like a shell: 127 for a program not found, 126 for one that cannot run.
        const status = err.code === 'ENOENT' ? 127 : 126;
        const message = err.code === 'ENOENT' ? `${argv[0]}: command not found\n` : `${argv[0]}: ${err.message}\n`;
        if (options.capture) resolve({ status, stdout, stderr: stderr + message });
        else {
          this.io.stderr.write(message);
          resolve({ status, stdout, stderr });
        }
      });
      const statusOf = (code: number | null, signal: NodeJS.Signals | null) => code ?? (signal ? 128 + signalNumber(signal) : 1);
      child.on('close', (code, signal) => resolve({ status: statusOf(code, signal), stdout, stderr }));
      // A daemon started with LOG_LEVEL keeps our pipes open after its starter exits:
      // take what came within a moment of the exit and stop waiting for the pipes.
      child.on('exit', (code, signal) => {
        setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          resolve({ status: statusOf(code, signal), stdout, stderr });
        }, EXIT_GRACE_MS).unref();
      });
    });
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal] ?? 0;
}
