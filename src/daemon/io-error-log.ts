/**
 * I/O errors the datapath survived (a receive failing with ENOBUFS, a TUN write refused…)
 * are counted by the datapath and reported here: one warning per place per interval, with
 * how many happened since the last, so a fault that repeats every packet cannot flood the
 * journal.
 */
import type { Logger } from './logger.js';

const IO_ERROR_LOG_INTERVAL_MS = 10_000;

export class IoErrorLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = IO_ERROR_LOG_INTERVAL_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Bound once, so the datapath can call it as a plain function. */
  readonly report = (where: string, err: unknown): void => {
    const t = this.now();
    const seen = this.last.get(where);
    if (seen !== undefined && t - seen.at < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    const e = err as { code?: string; message?: string };
    this.logger.warn({ where, code: e?.code, suppressed: seen?.suppressed ?? 0 }, `${where} failed: ${e?.message ?? String(err)}; counted, going on`);
    this.last.set(where, { at: t, suppressed: 0 });
  };
}
