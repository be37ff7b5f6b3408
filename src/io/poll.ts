/**
 * Readiness of a native fd through libuv: the callback runs once per event (a whole
 * batch is read or written in it), never once per packet. libuv polls level-triggered:
 * a callback that leaves data unread is called again on the next loop turn.
 */
import { ErrorCode, FerryError } from '../errors.js';
import { loadNative, type NativeIo, type PollHandle } from './native.js';

export const PollEvent = {
  None: 0,
  Readable: 1,
  Writable: 2,
} as const;

/** status < 0 is a libuv error (e.g. UV_EBADF); libuv then stops watching until rearm(). */
type PollCallback = (status: number, events: number) => void;

interface PollerOptions {
  /** Events to watch from the start (default Readable; None starts paused). */
  events?: number;
  /** false: the poller does not keep the process alive (default true). */
  ref?: boolean;
}

/** libuv allows one poll handle per fd; a second would silently never fire. */
const polledFds = new Set<number>();

function checkEvents(events: number): void {
  if (!Number.isInteger(events) || events < 0 || events > 3) {
    throw new FerryError(ErrorCode.InvalidArgument, `poll events must be an integer in [0, 3] (1 readable, 2 writable), got ${events}`);
  }
}

export class Poller {
  readonly fd: number;
  private readonly native: NativeIo;
  private handle: PollHandle | null;
  private current: number;

  constructor(fd: number, callback: PollCallback, options: PollerOptions = {}) {
    if (!Number.isInteger(fd) || fd < 0) throw new FerryError(ErrorCode.InvalidArgument, `poll fd must be a non-negative integer, got ${fd}`);
    if (typeof callback !== 'function') throw new FerryError(ErrorCode.InvalidArgument, 'poll callback must be a function');
    const events = options.events ?? PollEvent.Readable;
    checkEvents(events);
    if (polledFds.has(fd)) throw new FerryError(ErrorCode.InvalidArgument, `fd ${fd} is already polled; stop the other poller first`);
    this.native = loadNative();
    this.fd = fd;
    this.handle = this.native.pollStart(fd, events, callback, options.ref ?? true);
    this.current = events;
    polledFds.add(fd);
  }

  /** Events being watched now (0 when paused or stopped). */
  get events(): number {
    return this.handle === null ? 0 : this.current;
  }

  get stopped(): boolean {
    return this.handle === null;
  }

  /** Watches `events` from now on (0 pauses). Cheap when unchanged. */
  update(events: number): void {
    if (this.handle === null) throw new FerryError(ErrorCode.InvalidArgument, `poller for fd ${this.fd} was stopped`);
    if (events === this.current) return;
    checkEvents(events);
    this.native.pollUpdate(this.handle, events);
    this.current = events;
  }

  /** Re-arms after libuv stopped the watcher on an error status. */
  rearm(): void {
    if (this.handle === null || this.current === 0) return;
    this.native.pollUpdate(this.handle, this.current);
  }

  /** ref(false): this poller no longer keeps the process alive. */
  ref(on: boolean): void {
    if (this.handle === null) return;
    this.native.pollRef(this.handle, on);
  }

  /** Stops for good (idempotent). Must run before the fd is closed. */
  stop(): void {
    if (this.handle === null) return;
    this.native.pollStop(this.handle);
    this.handle = null;
    this.current = 0;
    polledFds.delete(this.fd);
  }
}
