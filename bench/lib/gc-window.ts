/**
 * V8 collections by time window (PerformanceObserver 'gc' entries with their start
 * times). Entries are delivered on a later event-loop turn, so a window measured by a
 * synchronous loop is read after yielding once; filtering by start time keeps a
 * collection that happens while yielding (V8's memory reducer, say) out of the window.
 * The observer allocates only when a collection happens.
 *
 * A full collection usually shows as two entries, its incremental marking and the
 * mark-compact that finishes it (and sometimes a weak-callback entry): `collections`
 * counts scavenges and mark-compacts only, which is what `node --trace-gc` prints one
 * line for (checked on the anchor's traffic: 37 scavenge lines and 37 scavenges; 22
 * mark-compact lines, 21 mark-compacts and 21 incremental-marking entries inside the window).
 */
import { constants, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';

export interface GcWindowReading {
  /** Scavenges plus mark-compacts. */
  collections: number;
  scavenges: number;
  markCompacts: number;
  /** Entries that are steps of a mark-compact, not collections of their own. */
  incrementalMarking: number;
  weakCallbacks: number;
  /** Pause time of all entries, ms. */
  ms: number;
}

interface GcRecord {
  start: number;
  duration: number;
  kind: number;
}

export class GcWindow {
  private readonly records: GcRecord[] = [];
  private readonly observer: PerformanceObserver;

  constructor() {
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0;
        this.records.push({ start: e.startTime, duration: e.duration, kind });
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** Collections that started in [from, to) (performance.now() times); yield a turn first. */
  between(from: number, to: number): GcWindowReading {
    const r: GcWindowReading = { collections: 0, scavenges: 0, markCompacts: 0, incrementalMarking: 0, weakCallbacks: 0, ms: 0 };
    for (const x of this.records) {
      if (x.start < from || x.start >= to) continue;
      r.ms += x.duration;
      if (x.kind === constants.NODE_PERFORMANCE_GC_MINOR) r.scavenges++;
      else if (x.kind === constants.NODE_PERFORMANCE_GC_MAJOR) r.markCompacts++;
      else if (x.kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) r.incrementalMarking++;
      else r.weakCallbacks++;
    }
    r.collections = r.scavenges + r.markCompacts;
    r.ms = Math.round(r.ms * 1000) / 1000;
    return r;
  }

  stop(): void {
    this.observer.disconnect();
  }
}
