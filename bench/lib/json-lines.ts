/**
 * Benchmark output: one JSON object per line on stdout, each tagged with the bench name.
 * The last line of a run is the headline {bench, metric, value, unit, baseline, ratio}.
 */
export type Emit = (line: Record<string, unknown>) => void;

export function jsonLines(bench: string): Emit {
  return (line) => console.log(JSON.stringify({ bench, ...line }));
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
