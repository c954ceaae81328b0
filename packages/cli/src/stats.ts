/** Percentiles and summaries for the load test and the benchmarks. */

/**
 * Nearest-rank percentile of an ascending array (`p` in 0..100): the smallest value
 * with at least p% of the samples at or below it. Nearest-rank never invents a value
 * that was not measured, which matters for a p99 compared against a threshold.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((Math.min(100, Math.max(0, p)) / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)] as number;
}

export interface Summary {
  count: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const count = sorted.length;
  return {
    count,
    min: count ? (sorted[0] as number) : Number.NaN,
    max: count ? (sorted[count - 1] as number) : Number.NaN,
    mean: count ? sorted.reduce((sum, v) => sum + v, 0) / count : Number.NaN,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
  };
}

/** The middle value (the mean of the two middle ones for an even count): benchmark runs. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Rounds for reports: NaN (no samples) becomes null so JSON stays valid. */
export function round(value: number, digits = 1): number | null {
  if (!Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
