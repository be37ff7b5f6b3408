/**
 * Talking to systemd as a Type=notify service (sd_notify(3)): READY=1 once everything is
 * in place, STATUS= kept current, WATCHDOG=1 from the event loop at half the interval
 * WATCHDOG_USEC asks (so a blocked loop stops them and systemd restarts the service),
 * RELOADING=1 … READY=1 around a reload, STOPPING=1 at shutdown.
 *
 * fromEnv() takes NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID out of the environment
 * (sd_notify's unset_environment), so hooks and `ip` run by the daemon do not inherit them.
 * A failed send is logged once and never ends the daemon.
 */
import { sdNotify } from '../io/notify.js';
import type { Logger } from './logger.js';

interface NotifierOptions {
  /** The socket (path, or @abstract). */
  socket: string;
  /** Watchdog interval systemd expects, in microseconds; 0 = no watchdog. */
  watchdogUsec: number;
  logger: Logger;
  /** Replaces the datagram send (tests). */
  send?: (state: string, socket: string) => void;
}

/** How often STATUS= is refreshed when it changed. */
const STATUS_REFRESH_MS = 5000;
/** A change (a handshake) refreshes STATUS= after this long, once for all changes in between. */
const CHANGE_COALESCE_MS = 250;

export class ServiceNotifier {
  private watchdogTimer: NodeJS.Timeout | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private lastStatus = '';
  private stopChanges: (() => void) | undefined;
  private changeTimer: NodeJS.Timeout | undefined;
  private failed = false;

  constructor(private readonly options: NotifierOptions) {}

  /** A notifier for the socket systemd gave, or null outside systemd. */
  static fromEnv(logger: Logger, env: NodeJS.ProcessEnv = process.env, pid = process.pid): ServiceNotifier | null {
    const socket = env.NOTIFY_SOCKET ?? '';
    const usec = Number(env.WATCHDOG_USEC ?? '0');
    const watchdogPid = env.WATCHDOG_PID;
    delete env.NOTIFY_SOCKET;
    delete env.WATCHDOG_USEC;
    delete env.WATCHDOG_PID;
    if (socket === '') return null;
    // WATCHDOG_PID names the process the watchdog is meant for (sd_watchdog_enabled).
    const forUs = watchdogPid === undefined || Number(watchdogPid) === pid;
    const watchdogUsec = forUs && Number.isSafeInteger(usec) && usec > 0 ? usec : 0;
    return new ServiceNotifier({ socket, watchdogUsec, logger });
  }

  get watchdogUsec(): number {
    return this.options.watchdogUsec;
  }

  /** Sends assignments; false when the send failed (logged once). */
  send(state: string): boolean {
    try {
      if (this.options.send) this.options.send(state, this.options.socket);
      else sdNotify(state, this.options.socket);
      return true;
    } catch (err) {
      if (!this.failed) this.options.logger.warn({ socket: this.options.socket, err: (err as Error).message }, 'cannot notify systemd');
      this.failed = true;
      return false;
    }
  }

  ready(status: string): void {
    this.lastStatus = oneLine(status);
    this.send(`READY=1\nSTATUS=${this.lastStatus}`);
  }

  /** RELOADING=1 with the monotonic time systemd (253+) wants; call ready() when done. */
  reloading(): void {
    this.send(`RELOADING=1\nMONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`);
  }

  stopping(status: string): void {
    this.lastStatus = oneLine(status);
    this.send(`STOPPING=1\nSTATUS=${this.lastStatus}`);
  }

  /** STATUS=…, sent only when it differs from the last one sent. */
  status(text: string): void {
    const line = oneLine(text);
    if (line === this.lastStatus) return;
    this.lastStatus = line;
    this.send(`STATUS=${line}`);
  }

  /** WATCHDOG=1 now and then every half interval, from a timer on the event loop. */
  startWatchdog(): void {
    if (this.options.watchdogUsec === 0 || this.watchdogTimer !== undefined) return;
    const everyMs = Math.max(1, Math.floor(this.options.watchdogUsec / 2000));
    this.send('WATCHDOG=1');
    this.watchdogTimer = setInterval(() => this.send('WATCHDOG=1'), everyMs);
    this.watchdogTimer.unref();
  }

  /**
   * Keeps STATUS= current: refreshed from summary() every few seconds and whenever
   * `changes` reports a change (a handshake), sent only when it differs.
   */
  startStatus(summary: () => string, changes?: (fn: () => void) => () => void, everyMs = STATUS_REFRESH_MS): void {
    if (this.statusTimer !== undefined) return;
    this.statusTimer = setInterval(() => this.status(summary()), everyMs);
    this.statusTimer.unref();
    // Coalesced: with many peers, handshakes come often and summary() walks them all.
    this.stopChanges = changes?.(() => {
      if (this.changeTimer !== undefined) return;
      this.changeTimer = setTimeout(() => {
        this.changeTimer = undefined;
        this.status(summary());
      }, CHANGE_COALESCE_MS);
      this.changeTimer.unref();
    });
  }

  /** Stops the timers (the watchdog last: systemd still expects it while stopping). */
  close(): void {
    if (this.statusTimer !== undefined) clearInterval(this.statusTimer);
    this.stopChanges?.();
    this.stopChanges = undefined;
    if (this.changeTimer !== undefined) clearTimeout(this.changeTimer);
    this.changeTimer = undefined;
    if (this.watchdogTimer !== undefined) clearInterval(this.watchdogTimer);
    this.statusTimer = undefined;
    this.watchdogTimer = undefined;
  }
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
