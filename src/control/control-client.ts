/** Client side of the ferry control socket (see control-server.ts for the protocol). */
import { createConnection } from 'node:net';
import { controlSocketPath } from './control-server.js';

export class ControlError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}

/** Sends one request and resolves with its result; onEvent receives streamed events. */
export function controlRequest(ifnameOrPath: string, op: string, args: Record<string, unknown> = {}, onEvent?: (event: unknown) => void, timeoutMs = 10_000): Promise<unknown> {
  const path = ifnameOrPath.includes('/') ? ifnameOrPath : controlSocketPath(ifnameOrPath);
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    const timer = timeoutMs > 0 ? setTimeout(() => fail(new ControlError('ETIMEDOUT', `no answer from ${path} within ${timeoutMs} ms`)), timeoutMs) : undefined;
    const fail = (err: Error) => {
      if (timer) clearTimeout(timer);
      sock.destroy();
      reject(err);
    };
    sock.setEncoding('utf8');
    sock.on('error', fail);
    sock.on('connect', () => sock.write(`${JSON.stringify({ id: 1, op, ...args })}\n`));
    sock.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl)) as { ok?: boolean; event?: unknown; result?: unknown; error?: { code: string; message: string } };
        buf = buf.slice(nl + 1);
        if ('event' in msg) {
          onEvent?.(msg.event);
          continue;
        }
        if (timer) clearTimeout(timer);
        sock.end();
        if (msg.ok) resolve(msg.result);
        else reject(new ControlError(msg.error?.code ?? 'EUNKNOWN', msg.error?.message ?? 'request failed'));
        return;
      }
    });
  });
}
