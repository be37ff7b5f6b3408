/**
 * Counts V8 garbage collections seen by this process (PerformanceObserver 'gc' entries).
 * Entries arrive a loop turn after the collection, so a reading lags by at most one turn.
 * The observer itself allocates only when a GC happens: watching costs nothing otherwise.
 */
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';

export interface GcReading {
  /** All collections so far. */
  count: number;
  /** Scavenges (young generation): what per-packet garbage shows up as first. */
  minor: number;
  /**
   * Everything else: mark-sweep-compact, and its incremental-marking and weak-callback
   * entries (one full GC may show as two entries). V8's memory reducer runs a couple ~8 s
   * after start even in an idle process.
   */
  major: number;
  /** Total pause time in ms. */
  ms: number;
}

export class GcCounter {
  private count = 0;
  private minor = 0;
  private major = 0;
  private ms = 0;
  private readonly observer: PerformanceObserver;

  constructor() {
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        this.count++;
        this.ms += e.duration;
        const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
        if (kind === constants.NODE_PERFORMANCE_GC_MINOR) this.minor++;
        else this.major++;
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  read(): GcReading {
    return { count: this.count, minor: this.minor, major: this.major, ms: Math.round(this.ms * 1000) / 1000 };
  }

  stop(): void {
    this.observer.disconnect();
  }
}
