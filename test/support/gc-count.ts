/**
 * Counting V8 collections around a synchronous piece of work, for allocation-free tests.
 * Only scavenges (minor collections) count: allocation in the new space is what triggers
 * them, and every allocation shows there first. Full collections can come from V8's memory
 * reducer on an idle-looking process whatever the code does (docs/benchmarks.md, "GC"),
 * so counting them made these tests fail now and then for no fault of the code.
 */
import { constants, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// V8's gc(), without starting node with --expose-gc.
setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

/**
 * Runs fn and counts the scavenges (minor V8 collections) that happened while it ran.
 * A full collection first empties the new space: otherwise whatever the test runner left
 * there could tip it over at fn's first small allocation (an optimising compile of fn's
 * loop makes a few), a scavenge that is not fn's doing (it made the pool test fail once).
 * So a scavenge means fn allocated a new space's worth (up to 16 MiB in a grown heap):
 * the tests run enough packets that one object per packet is far more than that.
 */
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
  fullGc();
  from = performance.now();
  fn();
  to = performance.now();
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  return count;
}

