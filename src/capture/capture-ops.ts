/**
 * The control socket's capture operations (docs/control-socket.md, docs/capture.md):
 *
 *   capture       a long-lived request: the first event names the capture
 *                 (`{"capture": ID, "points": [...]}`), then events carry pcapng bytes
 *                 (`{"data": BASE64, "lost": N}`); it ends at its count, its duration,
 *                 a capture-stop, or when the client goes away, with
 *                 `{"packets": N, "lost": M, "secrets": K}`.
 *   capture-stop  `{"capture": ID}`: ends that capture (its last packets still go out).
 *
 * The ring is drained every few milliseconds while the connection takes more; when the
 * client reads slowly the socket's buffer stays full, the ring fills and packets are
 * lost (counted), the data path never waits.
 */
import { randomBytes } from 'node:crypto';
import type { ControlServer, ControlStream, EventSink } from '../control/control-server.js';
import { CAPTURE_POINT_NAMES } from '../datapath/capture-tap.js';
import type { CaptureHub } from './capture-hub.js';
import { captureOptions, type CaptureRequestArgs } from './capture-options.js';
import { CaptureSession } from './capture-session.js';

const DRAIN_INTERVAL_MS = 20;
/** pcapng bytes per event (before base64). */
const CHUNK_BYTES = 256 * 1024;
/** Captures one daemon runs at once (each holds a ring). */
const MAX_CAPTURES = 8;

interface CaptureResult {
  packets: number;
  lost: number;
  secrets: number;
}

interface CaptureOpsSource {
  ifname: string;
  hub: CaptureHub;
  /** Key log lines a --keys capture starts with (our static key, the peers' public keys and PSKs); null when there is no key. */
  staticSecrets?: () => string | null;
}

export function registerCaptureOps(control: ControlServer, src: CaptureOpsSource): void {
  const running = new Map<string, () => void>();
  control.handle('capture', (req, events, stream) => {
    if (running.size >= MAX_CAPTURES) throw new Error(`${MAX_CAPTURES} captures are already running on ${src.ifname}`);
    const options = captureOptions(req as CaptureRequestArgs);
    const session = new CaptureSession(options, src.ifname, src.hub.describe);
    const id = randomBytes(8).toString('hex');
    events({ capture: id, points: CAPTURE_POINT_NAMES.filter((_, i) => (options.points & (1 << i)) !== 0) });
    if (options.keys) {
      const lines = src.staticSecrets?.() ?? null;
      if (lines !== null) session.secrets(lines, Date.now() * 1000);
    }
    src.hub.add(session);
    return new Promise<CaptureResult>((resolve) => {
      const finish = () => run.stop();
      const run = new CaptureRun(session, src.hub, events, stream, (result) => {
        running.delete(id);
        resolve(result);
      });
      running.set(id, finish);
      run.start();
    });
  });
  control.handle('capture-stop', (req) => {
    const id = typeof req.capture === 'string' ? req.capture : '';
    const stop = running.get(id);
    if (stop === undefined) return { stopped: false };
    stop();
    return { stopped: true };
  });
}

/** Pumps one session's ring to its connection until the capture ends. */
class CaptureRun {
  private readonly chunk = new Uint8Array(CHUNK_BYTES);
  private timer: ReturnType<typeof setInterval> | undefined;
  private deadline: ReturnType<typeof setTimeout> | undefined;
  private waitingForDrain = false;
  private done = false;
  private readonly pump = () => this.drain(false);

  constructor(
    private readonly session: CaptureSession,
    private readonly hub: CaptureHub,
    private readonly events: EventSink,
    private readonly stream: ControlStream,
    private readonly onEnd: (result: CaptureResult) => void,
  ) {}

  start(): void {
    this.timer = setInterval(this.pump, DRAIN_INTERVAL_MS);
    const seconds = this.session.options.seconds;
    if (seconds > 0) this.deadline = setTimeout(() => this.stop(), seconds * 1000);
    this.stream.onClose(() => this.stop(true));
    this.drain(false);
  }

  /** Ends the capture: the rest of the ring goes out (unless the client is gone), then the result. */
  stop(closed = false): void {
    if (this.done) return;
    this.done = true;
    clearInterval(this.timer);
    clearTimeout(this.deadline);
    this.hub.remove(this.session);
    if (!closed) this.drain(true);
    this.session.discardRest();
    const s = this.session;
    this.onEnd({ packets: s.written, lost: s.lost, secrets: s.secretsWritten });
  }

  /** Sends what the ring holds while the connection takes it (all of it when `final`). */
  private drain(final: boolean): void {
    const s = this.session;
    for (;;) {
      if (!final && !this.stream.writable) {
        if (!this.waitingForDrain && this.stream.writable === false) {
          this.waitingForDrain = true;
          this.stream.onDrain(() => {
            this.waitingForDrain = false;
            if (!this.done) this.drain(false);
          });
        }
        return;
      }
      const n = s.drain(this.chunk);
      if (n === 0) break;
      if (!this.events({ data: Buffer.from(this.chunk.buffer, 0, n).toString('base64'), lost: s.lost })) {
        if (!this.done) this.stop(true);
        return;
      }
      if (s.complete) break;
    }
    if (!final && s.complete) this.stop();
  }
}
