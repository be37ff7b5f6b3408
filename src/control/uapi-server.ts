/**
 * The UAPI socket: /var/run/wireguard/IFNAME.sock, a unix stream socket that only root
 * can reach (created under umask 077), speaking the protocol of src/uapi/ (set-parse.ts
 * in, get-format.ts out). Each connection may carry several operations; every request is
 * bounded (line length, total size, idle time) so a misbehaving client costs a closed
 * connection, never the daemon.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { UapiErrno, UapiError } from '../uapi/errors.js';
import { ConnectionLimit } from './connection-limit.js';
import { formatGet } from '../uapi/get-format.js';
import type { Device } from '../uapi/model.js';
import { parseSet } from '../uapi/set-parse.js';

export interface UapiBackend {
  get(): Device;
  /** Applies a whole change or throws (UapiError carries the errno to answer). */
  set(change: Device): void | Promise<void>;
}

interface UapiServerOptions {
  path: string;
  backend: UapiBackend;
  /** Longest accepted line. wg's longest is an endpoint with a long host: well under 4 KiB. */
  maxLineBytes?: number;
  /** Largest accepted operation (100k allowed IPs take about 3 MiB). */
  maxRequestBytes?: number;
  /** Connections held at once; at the bound the quietest idle one is closed for a new one. Default 256. */
  maxConnections?: number;
  /** A connection idle this long in the middle of an operation is closed. */
  idleTimeoutMs?: number;
  onError?: (message: string) => void;
}

/**
 * True unless the path is certainly a stale file: only a refused connection (nothing
 * listens: the daemon died) or a missing file says so. Any other error (EAGAIN from a
 * live daemon's full backlog, EACCES for a caller who may not connect) counts as live,
 * so that neither `ferry down` nor a new daemon ever removes a running daemon's socket.
 */
export function socketIsLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', (err: NodeJS.ErrnoException) => resolve(err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT'));
  });
}

export class UapiServer {
  private constructor(
    private readonly server: Server,
    readonly path: string,
  ) {}

  static async listen(options: UapiServerOptions): Promise<UapiServer> {
    const { path } = options;
    const dir = dirname(path);
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      chmodSync(dir, 0o755);
    }
    if (existsSync(path)) {
      if (await socketIsLive(path)) {
        throw new UapiError(UapiErrno.AddressInUse, `${path} is in use by a running daemon`);
      }
      unlinkSync(path);
    }
    const limit = new ConnectionLimit(options.maxConnections);
    const server = createServer((sock) => handleConnection(sock, options, limit));
    const oldUmask = process.umask(0o077);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(oldUmask);
    }
    return new UapiServer(server, path);
  }

  /** Stops accepting and removes the socket file. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      // already gone: that is how a user asks the daemon to stop
    }
  }
}

function handleConnection(sock: Socket, options: UapiServerOptions, limit: ConnectionLimit): void {
  limit.admit(sock);
  const maxLine = options.maxLineBytes ?? 4096;
  const maxRequest = options.maxRequestBytes ?? 64 * 1024 * 1024;
  sock.setTimeout(options.idleTimeoutMs ?? 30_000);
  sock.on('error', () => sock.destroy());

  let pending = '';
  let op: 'get' | 'set' | null = null;
  let lines: string[] = [];
  let requestBytes = 0;
  let busy = false;
  const queue: string[] = [];

  const fail = (errno: number, message: string, close: boolean) => {
    options.onError?.(message);
    sock.write(`errno=${errno}\n\n`);
    op = null;
    lines = [];
    requestBytes = 0;
    if (close) sock.end();
  };

  const finish = async () => {
    limit.busy(sock, true);
    try {
      await answer();
    } finally {
      limit.busy(sock, false);
    }
  };

  const answer = async () => {
    const current = op;
    const body = lines;
    op = null;
    lines = [];
    requestBytes = 0;
    if (current === 'get') {
      if (body.length !== 0) return fail(UapiErrno.Invalid, 'trailing data in get operation', true);
      let text: string;
      try {
        text = formatGet(options.backend.get());
      } catch (err) {
        return fail(UapiErrno.IO, `get failed: ${(err as Error).message}`, false);
      }
      sock.write(`${text}errno=0\n\n`);
      return;
    }
    try {
      const change = parseSet(body);
      await options.backend.set(change);
      sock.write('errno=0\n\n');
    } catch (err) {
      const errno = err instanceof UapiError ? err.errno : UapiErrno.Unknown;
      fail(errno, `set failed: ${(err as Error).message}`, false);
    }
  };

  const onLine = async (line: string) => {
    if (op === null) {
      if (line === 'get=1') op = 'get';
      else if (line === 'set=1') op = 'set';
      else if (line === '') return;
      else return fail(UapiErrno.Invalid, `invalid UAPI operation "${line.slice(0, 32)}"`, true);
      return;
    }
    if (line === '') return finish();
    requestBytes += line.length + 1;
    if (requestBytes > maxRequest) return fail(UapiErrno.Protocol, `operation larger than ${maxRequest} bytes`, true);
    lines.push(line);
  };

  const drain = async () => {
    if (busy) return;
    busy = true;
    try {
      while (queue.length > 0 && !sock.destroyed) await onLine(queue.shift() as string);
    } finally {
      busy = false;
    }
  };

  // An operation left unfinished is answered (nothing of it was applied), then closed.
  sock.on('timeout', () => {
    if (op !== null || pending !== '') {
      options.onError?.('UAPI operation left unfinished; closing the connection');
      sock.end(`errno=${UapiErrno.TimedOut}\n\n`);
    } else sock.destroy();
  });

  sock.setEncoding('utf8');
  sock.on('data', (chunk: string) => {
    limit.active(sock);
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0 && nl <= maxLine) {
      queue.push(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
    if (nl > maxLine || pending.length > maxLine) {
      queue.length = 0;
      pending = '';
      fail(UapiErrno.Protocol, `line longer than ${maxLine} bytes`, true);
      return;
    }
    void drain();
  });
}
