/**
 * Daemonizing the way wireguard-go does: the foreground process starts a detached copy
 * of itself with `-f`, waits until that copy has created the interface and its UAPI
 * socket (or failed), and only then exits, with the child's status. wg-quick relies on
 * this: the interface must exist the moment `ferryd IFNAME` returns.
 *
 * The child reports through an extra pipe (fd 3): "ok\n" or "error <message>\n".
 */
import { spawn } from 'node:child_process';
import { closeSync, writeSync } from 'node:fs';
import type { Readable } from 'node:stream';

export const READY_FD_ENV = 'FERRYD_READY_FD';

/** Starts the detached child and resolves with the exit code the parent should use. */
export function runDetached(scriptArgs: string[], inheritLogs: boolean): Promise<{ code: number; message: string }> {
  return new Promise((resolve) => {
    const out = inheritLogs ? 'inherit' : 'ignore';
    const child = spawn(process.execPath, [...process.execArgv, ...scriptArgs], {
      detached: true,
      stdio: ['ignore', out, out, 'pipe'],
      env: { ...process.env, [READY_FD_ENV]: '3' },
    });
    let report = '';
    const pipe = child.stdio[3] as Readable | null | undefined;
    if (!pipe) {
      resolve({ code: 1, message: 'could not create the readiness pipe' });
      return;
    }
    pipe.setEncoding('utf8');
    pipe.on('data', (d: string) => (report += d));
    const settle = (code: number, message: string) => {
      child.unref();
      pipe.destroy();
      resolve({ code, message });
    };
    pipe.on('end', () => {
      if (report.startsWith('ok')) settle(0, '');
      else settle(1, report.replace(/^error /, '').trim() || 'daemon exited during startup');
    });
    child.on('exit', (code) => {
      if (!report.startsWith('ok')) settle(code || 1, report.replace(/^error /, '').trim() || `daemon exited with status ${code}`);
    });
  });
}

/** In the child: tells the waiting parent how startup went (no-op when not daemonized). */
export function reportStartup(error?: string): void {
  const fd = Number(process.env[READY_FD_ENV]);
  if (!Number.isInteger(fd) || fd < 3) return;
  delete process.env[READY_FD_ENV];
  try {
    writeSync(fd, error === undefined ? 'ok\n' : `error ${error}\n`);
    closeSync(fd);
  } catch {
    // the parent is gone; nothing to tell
  }
}
