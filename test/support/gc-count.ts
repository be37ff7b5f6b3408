/** Counting V8 collections around a synchronous piece of work, for allocation-free tests. */
import { PerformanceObserver } from 'node:perf_hooks';

/** Runs fn and counts the V8 collections that happened while it ran. */
export async function collectionsDuring(fn: () => void): Promise<number> {
  let count = 0;
  let from = 0;
  let to = Infinity;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.startTime >= from && e.startTime <= to) count++;
  });
  obs.observe({ entryTypes: ['gc'] });
  from = performance.now();
  fn();
  to = performance.now();
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  return count;
}

