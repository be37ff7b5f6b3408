/**
 * Counting V8 collections around a synchronous piece of work, for allocation-free tests.
 * Only scavenges (minor collections) count: allocation in the new space is what triggers
 * them, and every allocation shows there first. Full collections can come from V8's memory
 * reducer on an idle-looking process whatever the code does (docs/benchmarks.md, "GC"),
 * so counting them made these tests fail now and then for no fault of the code.
 */
import { constants, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';

/** Runs fn and counts the scavenges (minor V8 collections) that happened while it ran. */
export async function collectionsDuring(fn: () => void): Promise<number> {
  let count = 0;
  let from = 0;
  let to = Infinity;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR && e.startTime >= from && e.startTime <= to) count++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  from = performance.now();
  fn();
  to = performance.now();
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  return count;
}

