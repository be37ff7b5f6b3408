/**
 * The opt-in HTTP port (FERRY_HTTP=ADDRESS:PORT, or Http = in [Ferry]): Kubernetes-style
 * probes and Prometheus metrics, on node:http alone.
 *
 *   GET /livez    200 while the process serves requests (its event loop turns)
 *   GET /readyz   200 when the interface is up and every plane is ready, else 503 with why
 *   GET /metrics  Prometheus text
 *
 * Anything else is 404 (405 for a method other than GET and HEAD). Requests are small and
 * short-lived by construction: bodies are never read, headers are bounded, slow clients are
 * cut off, connections are capped and closed after each answer; a broken request or a
 * failing source is answered (400/500) and counted, never thrown.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROMETHEUS_CONTENT_TYPE } from './prometheus-text.js';

interface ProbeSource {
  readiness(): { ready: boolean; reasons: string[] };
  metrics(): string;
}

interface ProbeServerOptions {
  host: string;
  port: number;
  source: ProbeSource;
  /** Called with a message when a source throws (the answer is then 500). */
  onError?: (message: string) => void;
  maxConnections?: number;
  timeoutMs?: number;
}

const TEXT = 'text/plain; charset=utf-8';

export class ProbeHttpServer {
  /** Requests answered 4xx/5xx because they were malformed or the source failed. */
  errors = 0;

  private constructor(
    private readonly server: Server,
    private readonly options: ProbeServerOptions,
  ) {}

  static async listen(options: ProbeServerOptions): Promise<ProbeHttpServer> {
    const timeout = options.timeoutMs ?? 5000;
    const server = createServer({ requestTimeout: timeout, headersTimeout: timeout, keepAliveTimeout: 1000, maxHeaderSize: 8192 });
    server.maxConnections = options.maxConnections ?? 32;
    server.maxHeadersCount = 32;
    const probe = new ProbeHttpServer(server, options);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => probe.answer(req, res));
    server.on('clientError', (_err, socket) => {
      probe.errors++;
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: options.host, port: options.port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return probe;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.reply(req, res, 405, 'method not allowed\n', TEXT, { allow: 'GET, HEAD' });
    let status = 200;
    let body: string;
    let type = TEXT;
    try {
      switch (path) {
        case '/livez':
          body = 'ok\n';
          break;
        case '/readyz': {
          const r = this.options.source.readiness();
          status = r.ready ? 200 : 503;
          body = r.ready ? 'ready\n' : `not ready: ${r.reasons.join('; ')}\n`;
          break;
        }
        case '/metrics':
          body = this.options.source.metrics();
          type = PROMETHEUS_CONTENT_TYPE;
          break;
        default:
          status = 404;
          body = 'not found: try /livez, /readyz or /metrics\n';
      }
    } catch (err) {
      this.errors++;
      this.options.onError?.(`${path}: ${(err as Error).message}`);
      status = 500;
      body = 'internal error\n';
    }
    this.reply(req, res, status, body, type);
  }

  private reply(req: IncomingMessage, res: ServerResponse, status: number, body: string, type: string, extra: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', connection: 'close', ...extra });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}
