/**
 * What a verb may touch of the outside: stdout (buffered, like C stdio to a pipe, written
 * at the end), stderr (written at once), the environment, and where UAPI sockets live.
 *
 * Text is handled as byte strings (one char per byte, latin1), as wg handles char*: file
 * contents are read as latin1 and output is written as latin1, so an error that quotes a
 * line from a file prints that line's exact bytes. ferry.ts turns argv (decoded by Node as
 * UTF-8) into byte strings; fsPath() turns a byte string back into a path.
 */
import { UAPI_DIR } from '../../uapi/socket-path.js';

export interface CliIo {
  /** Program name in usage lines and messages (wg prints argv[0]). */
  readonly prog: string;
  out(text: string): void;
  err(text: string): void;
  readonly env: NodeJS.ProcessEnv;
  readonly stdoutIsTTY: boolean;
  readonly stdinFd: number;
  readonly stdoutFd: number;
  /** /var/run/wireguard: where the daemons' UAPI sockets are. */
  readonly socketDir: string;
}

/** A byte string to a path Node's fs and net accept. */
export function fsPath(bytes: string): string {
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** A UTF-8 JS string (argv) to a byte string. */
export function toBytes(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

export class ProcessIo implements CliIo {
  readonly prog = 'ferry';
  readonly env = process.env;
  readonly stdoutIsTTY = process.stdout.isTTY === true;
  readonly stdinFd = 0;
  readonly stdoutFd = 1;
  readonly socketDir = UAPI_DIR;
  private buffered: string[] = [];

  out(text: string): void {
    this.buffered.push(text);
  }

  err(text: string): void {
    this.flush();
    process.stderr.write(Buffer.from(text, 'latin1'));
  }

  /** Writes what out() collected; resolves once it is handed to the OS. */
  flush(): Promise<void> {
    if (this.buffered.length === 0) return Promise.resolve();
    const data = Buffer.from(this.buffered.join(''), 'latin1');
    this.buffered = [];
    return new Promise((resolve) => process.stdout.write(data, () => resolve()));
  }
}

/** Collects output in memory, for tests. */
export class MemoryIo implements CliIo {
  readonly prog = 'ferry';
  stdout = '';
  stderr = '';
  constructor(
    readonly env: NodeJS.ProcessEnv = {},
    readonly socketDir: string = UAPI_DIR,
    readonly stdoutIsTTY = false,
    readonly stdinFd = 0,
    readonly stdoutFd = -1,
  ) {}

  out(text: string): void {
    this.stdout += text;
  }

  err(text: string): void {
    this.stderr += text;
  }
}
