/**
 * The readiness half of a port (TunDevice, UdpSocket), on the one libuv poller its fd may
 * have: readable events go to one callback while the port is started, not paused by its
 * owner and not starved (its pool could not give it a slot to read into; it resumes once
 * the pool has slots); writable events call the functions waiting in whenWritable once,
 * then writable interest is dropped again.
 *
 * Poll errors. libuv reports POLLERR as a status < 0 and stops watching. For a TUN that
 * means the device is gone: onError gets it (else onReadable runs, so the next read
 * throws the device's real error). For a UDP socket (rearmOnError) POLLERR means an error
 * is queued on the socket (sk_err: a failed datagram recvmmsg saved for the next call, an
 * ICMP error): the next receive consumes it and the port counts it, so the gate runs
 * onReadable and watches again. An error that comes back on every event without a
 * readable event in between is not consumed by reading: onError hears of it and the gate
 * watches again only after ERROR_BACKOFF_MS, so it cannot spin.
 */
import { getSystemErrorName } from 'node:util';
import { type BufferPool, SlotClass } from '../buffer/pool.js';
import { ErrorCode, FerryError, type SystemError } from '../errors.js';
import { PollEvent, Poller } from './poll.js';

/** Poll errors in a row (no good event between) after which the gate backs off. */
const ERROR_STREAK_LIMIT = 3;
const ERROR_BACKOFF_MS = 100;

interface GateOptions {
  /** A poll error is an error queued on the fd that reading consumes: read, watch on (UDP). */
  rearmOnError?: boolean;
}

/** Shape of the error handed to onError (libuv status as a SystemError). */
function pollError(fd: number, status: number): SystemError {
  const err = new Error(`poll on fd ${fd} failed: libuv status ${status}`) as SystemError;
  err.code = getSystemErrorName(status);
  err.errno = status;
  err.syscall = 'uv_poll';
  return err;
}

export class ReadGate {
  /** Poll errors reported by libuv. */
  pollErrors = 0;
  private poller: Poller | null = null;
  private onReadable: (() => void) | null = null;
  private onError: ((err: SystemError) => void) | undefined;
  private paused = false;
  private starved = false;
  private readonly rearmOnError: boolean;
  private errorStreak = 0;
  private backoff: NodeJS.Timeout | null = null;
  /** Functions waiting for writability: [0, writableCount); one entry per function. */
  private readonly writable: ((() => void) | undefined)[] = [];
  private writableCount = 0;
  private readonly firing: ((() => void) | undefined)[] = [];

  private readonly onPoolAvailable = (): void => {
    this.starved = false;
    this.apply();
  };

  private readonly onPoll = (status: number, events: number): void => {
    if (status < 0) {
      this.pollFailed(status);
      return;
    }
    this.errorStreak = 0;
    if ((events & PollEvent.Writable) !== 0 && this.writableCount > 0) this.fireWritable();
    if ((events & PollEvent.Readable) !== 0 && this.readableWanted()) this.onReadable!();
  };

  private readonly endBackoff = (): void => {
    this.backoff = null;
    this.poller?.rearm();
  };

  constructor(
    private readonly fd: number,
    private readonly pool: BufferPool,
    options: GateOptions = {},
  ) {
    this.rearmOnError = options.rearmOnError === true;
  }

  get started(): boolean {
    return this.onReadable !== null;
  }

  /** True while waiting for the pool to free slots. */
  get isStarved(): boolean {
    return this.starved;
  }

  /** Functions waiting for the fd to become writable. */
  get writableWaiters(): number {
    return this.writableCount;
  }

  /** onReadable runs on each readable event; onError receives poll errors (see above). */
  start(onReadable: () => void, onError?: (err: SystemError) => void): void {
    if (typeof onReadable !== 'function') throw new FerryError(ErrorCode.InvalidArgument, 'onReadable must be a function');
    if (this.onReadable !== null) throw new FerryError(ErrorCode.InvalidArgument, `fd ${this.fd} was already started`);
    this.onReadable = onReadable;
    this.onError = onError;
    this.ensurePoller();
  }

  /**
   * Calls fn once, on a later event-loop turn, when the fd is writable. Registering a
   * function already waiting changes nothing. Registration is rare (after EAGAIN).
   */
  whenWritable(fn: () => void): void {
    if (typeof fn !== 'function') throw new FerryError(ErrorCode.InvalidArgument, 'whenWritable needs a function');
    for (let i = 0; i < this.writableCount; i++) if (this.writable[i] === fn) return;
    this.writable[this.writableCount++] = fn;
    if (this.poller === null) this.ensurePoller();
    else this.apply();
  }

  /** Forgets fn registered with whenWritable; true when it was waiting. */
  cancelWhenWritable(fn: () => void): boolean {
    let kept = 0;
    for (let i = 0; i < this.writableCount; i++) {
      const f = this.writable[i];
      if (f !== fn) this.writable[kept++] = f;
    }
    const removed = kept !== this.writableCount;
    for (let i = kept; i < this.writableCount; i++) this.writable[i] = undefined;
    this.writableCount = kept;
    if (removed) this.apply();
    return removed;
  }

  pause(): void {
    this.paused = true;
    this.apply();
  }

  /** Resumes after pause(), and re-arms after a poll error. */
  resume(): void {
    this.paused = false;
    this.apply();
    if (this.backoff === null) this.poller?.rearm();
  }

  /** The reader found no slot to read into: stop watching until `threshold` slots of its class are free. */
  starve(threshold: number, cls: SlotClass = SlotClass.Small): void {
    if (this.starved) return;
    this.starved = true;
    this.apply();
    this.pool.whenAvailable(threshold, this.onPoolAvailable, cls);
  }

  /** The reader now reads into another class of slots: stop waiting for the old one (it starves again if it must). */
  forgetStarve(): void {
    if (!this.starved) return;
    this.pool.cancelWhenAvailable(this.onPoolAvailable);
    this.onPoolAvailable();
  }

  /** Stops watching for good: no callback runs after this, no pool or writable waiter is left. */
  stop(): void {
    this.poller?.stop();
    this.poller = null;
    this.onReadable = null;
    this.onError = undefined;
    if (this.starved) {
      this.pool.cancelWhenAvailable(this.onPoolAvailable);
      this.starved = false;
    }
    for (let i = 0; i < this.writableCount; i++) this.writable[i] = undefined;
    this.writableCount = 0;
    if (this.backoff !== null) {
      clearTimeout(this.backoff);
      this.backoff = null;
    }
  }

  private readableWanted(): boolean {
    return this.onReadable !== null && !this.paused && !this.starved;
  }

  private wanted(): number {
    return (this.readableWanted() ? PollEvent.Readable : 0) | (this.writableCount > 0 ? PollEvent.Writable : 0);
  }

  private ensurePoller(): void {
    if (this.poller === null) this.poller = new Poller(this.fd, this.onPoll, { events: this.wanted() });
    else this.apply();
  }

  private apply(): void {
    if (this.poller !== null) this.poller.update(this.wanted());
  }

  /** Takes the waiters out (so they may register again), drops the interest, calls them. */
  private fireWritable(): void {
    const n = this.writableCount;
    for (let i = 0; i < n; i++) {
      this.firing[i] = this.writable[i];
      this.writable[i] = undefined;
    }
    this.writableCount = 0;
    this.apply();
    for (let i = 0; i < n; i++) {
      const fn = this.firing[i];
      this.firing[i] = undefined;
      fn?.();
    }
  }

  private pollFailed(status: number): void {
    this.pollErrors++;
    const err = pollError(this.fd, status);
    if (!this.rearmOnError) {
      if (this.onError !== undefined) this.onError(err);
      else if (this.onReadable !== null) this.onReadable();
      return;
    }
    this.errorStreak++;
    // The queued error goes to whoever uses the socket next: a read consumes it (and the
    // port counts it); a writer waiting hears it is worth trying again.
    if (this.writableCount > 0) this.fireWritable();
    if (this.readableWanted()) this.onReadable!();
    if (this.poller === null) return; // stopped by a callback
    if (this.errorStreak < ERROR_STREAK_LIMIT) {
      this.poller.rearm();
      return;
    }
    this.onError?.(err);
    if (this.backoff === null && this.poller !== null) {
      this.backoff = setTimeout(this.endBackoff, ERROR_BACKOFF_MS);
      this.backoff.unref();
    }
  }
}
