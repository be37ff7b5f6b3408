/** Summaries of a value sampled over a run (bench soak): first, last, max and the trend after a warm-up. */
import { round } from './json-lines.js';

export interface Sample {
  /** Seconds since the run started. */
  t: number;
  value: number;
}

/** Least-squares slope of value over time, per minute; NaN with fewer than two samples. */
export function slopePerMinute(samples: readonly Sample[]): number {
  const n = samples.length;
  if (n < 2) return NaN;
  const mt = samples.reduce((s, p) => s + p.t, 0) / n;
  const mv = samples.reduce((s, p) => s + p.value, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of samples) {
    num += (p.t - mt) * (p.value - mv);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? NaN : (num / den) * 60;
}

export interface SeriesSummary {
  first: number;
  last: number;
  max: number;
  /** Slope per minute over the samples taken after the warm-up. */
  slopePerMin: number;
  /** Last minus the first sample after the warm-up. */
  growthAfterWarmup: number;
}

export function summarize(samples: readonly Sample[], warmupSeconds: number, digits = 2): SeriesSummary {
  const after = samples.filter((s) => s.t >= warmupSeconds);
  const values = samples.map((s) => s.value);
  return {
    first: round(values[0] ?? NaN, digits),
    last: round(values[values.length - 1] ?? NaN, digits),
    max: round(Math.max(...values), digits),
    slopePerMin: round(slopePerMinute(after), 3),
    growthAfterWarmup: round(after.length > 0 ? after[after.length - 1].value - after[0].value : NaN, digits),
  };
}
