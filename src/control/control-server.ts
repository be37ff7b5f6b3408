/**
 * The ferry control socket, /run/ferry/IFNAME.sock: what the WireGuard UAPI cannot carry
 * (status, drop reasons, statistics; later VXLAN, services and capture streams).
 *
 * Protocol: a unix stream socket (root only) carrying newline-delimited JSON. A request is
 * one line, `{"id":1,"op":"status", ...args}`; the answer is one line,
 * `{"id":1,"ok":true,"result":…}` or `{"id":1,"ok":false,"error":{"code":…,"message":…}}`.
 * A streaming operation answers with event lines `{"id":1,"event":…}` and ends with
 * `{"id":1,"ok":true,"end":true}`. Lines are bounded; a connection may carry many requests.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { ConnectionLimit } from './connection-limit.js';
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';

export const CONTROL_DIR = '/run/ferry';

export function controlSocketPath(ifname: string, dir = CONTROL_DIR): string {
  return `${dir}/${ifname}.sock`;
}

export const ControlErrorCode = {
  BadRequest: 'FERRY_CONTROL_BAD_REQUEST',
  UnknownOp: 'FERRY_CONTROL_UNKNOWN_OP',
  Failed: 'FERRY_CONTROL_FAILED',
} as const;

interface ControlRequest {
  id?: number | string;
  op: string;
  [arg: string]: unknown;
}

/** Sends one event of a streaming operation; returns false once the client went away. */
export type EventSink = (event: unknown) => boolean;

/** A streaming operation's view of its connection: backpressure and the end of it. */
export interface ControlStream {
  /** False while the connection's send buffer is above its high-water mark (a slow reader), or closed. */
  readonly writable: boolean;
  /** Calls fn once the send buffer has drained. */
  onDrain(fn: () => void): void;
  /** Calls fn once the connection has closed. */
  onClose(fn: () => void): void;
}

type ControlHandler = (request: ControlRequest, events: EventSink, stream: ControlStream) => unknown | Promise<unknown>;

export class ControlServer {
  private readonly handlers = new Map<string, ControlHandler>();
  private server: Server | undefined;
  readonly maxLineBytes: number;
  /** At most this many connections; the quietest idle one makes room for a new one. */
  readonly connections: ConnectionLimit;

  constructor(
    readonly path: string,
    options: { maxLineBytes?: number; maxConnections?: number } = {},
  ) {
    this.maxLineBytes = options.maxLineBytes ?? 64 * 1024;
    this.connections = new ConnectionLimit(options.maxConnections);
    this.handle('ops', () => [...this.handlers.keys()].sort());
  }

  /** Registers an operation. Handlers return the result (or a promise of it). */
  handle(op: string, handler: ControlHandler): void {
    this.handlers.set(op, handler);
  }

  async listen(): Promise<void> {
    const dir = dirname(this.path);
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      chmodSync(dir, 0o755);
    }
    if (existsSync(this.path)) unlinkSync(this.path);
    const server = createServer((sock) => this.connection(sock));
    const oldUmask = process.umask(0o077);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.path, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(oldUmask);
    }
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }

  private connection(sock: Socket): void {
    let pending = '';
    this.connections.admit(sock);
    sock.setEncoding('utf8');
    sock.on('error', () => sock.destroy());
    const send = (obj: unknown): boolean => {
      if (sock.destroyed) return false;
      sock.write(`${JSON.stringify(obj)}\n`);
      return true;
    };
    const stream: ControlStream = {
      get writable() {
        return !sock.destroyed && !sock.writableNeedDrain;
      },
      onDrain: (fn) => void sock.once('drain', fn),
      onClose: (fn) => void sock.once('close', fn),
    };
    sock.on('data', (chunk: string) => {
      this.connections.active(sock);
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line.trim() !== '') void this.dispatchBusy(sock, line, send, stream);
      }
      if (pending.length > this.maxLineBytes) {
        send({ ok: false, error: { code: ControlErrorCode.BadRequest, message: `request longer than ${this.maxLineBytes} bytes` } });
        sock.end();
        pending = '';
      }
    });
  }

  /** A connection answering a request (or streaming) is never the one evicted. */
  private async dispatchBusy(sock: Socket, line: string, send: (obj: unknown) => boolean, stream: ControlStream): Promise<void> {
    this.connections.busy(sock, true);
    try {
      await this.dispatch(line, send, stream);
    } finally {
      this.connections.busy(sock, false);
    }
  }

  private async dispatch(line: string, send: (obj: unknown) => boolean, stream: ControlStream): Promise<void> {
    let req: ControlRequest;
    try {
      req = JSON.parse(line) as ControlRequest;
      if (typeof req !== 'object' || req === null || typeof req.op !== 'string') throw new Error('missing "op"');
    } catch (err) {
      send({ ok: false, error: { code: ControlErrorCode.BadRequest, message: `not a request: ${(err as Error).message}` } });
      return;
    }
    const id = req.id;
    const handler = this.handlers.get(req.op);
    if (!handler) {
      send({ id, ok: false, error: { code: ControlErrorCode.UnknownOp, message: `unknown operation "${req.op.slice(0, 64)}"` } });
      return;
    }
    try {
      let streamed = false;
      const result = await handler(req, (event) => {
        streamed = true;
        return send({ id, event });
      }, stream);
      send(streamed ? { id, ok: true, end: true, result } : { id, ok: true, result });
    } catch (err) {
      const e = err as Error & { code?: string };
      send({ id, ok: false, error: { code: typeof e.code === 'string' ? e.code : ControlErrorCode.Failed, message: e.message } });
    }
  }
}
