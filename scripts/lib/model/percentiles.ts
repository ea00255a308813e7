/**
 * Statistics, done once. Percentiles interpolate linearly between the two nearest ranks (the method numpy
 * and most spreadsheets use by default), so p50 of [1, 2, 3, 4] is 2.5 and small samples are not rounded to
 * one of their members.
 */
import { round3 } from '../../../server/numbers.ts';

export interface Summary {
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** The p-th percentile (0 ≤ p ≤ 100) of values sorted ascending. NaN for an empty list. */
export function percentile(sortedAscending: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const n = sortedAscending.length;
  if (n === 0) return NaN;
  const rank = (p / 100) * (n - 1);
  const below = Math.floor(rank);
  const above = Math.min(below + 1, n - 1);
  const lo = sortedAscending[below]!;
  const hi = sortedAscending[above]!;
  return lo + (hi - lo) * (rank - below);
}

/** min, p50, p90, p99, max and mean of any list of numbers, rounded to microseconds when they are ms. */
export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return { min: NaN, p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN };
  const mean = sorted.reduce((sum, x) => sum + x, 0) / sorted.length;
  return {
    min: round3(sorted[0]!),
    p50: round3(percentile(sorted, 50)),
    p90: round3(percentile(sorted, 90)),
    p99: round3(percentile(sorted, 99)),
    max: round3(sorted[sorted.length - 1]!),
    mean: round3(mean),
  };
}

/** Median of a few totals (repeats). */
export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/** The median of a sample, and an interval around it that holds the true median with at least `coverage`. */
export interface MedianInterval {
  median: number;
  low: number;
  high: number;
  /** How often an interval built this way holds the true median: at least 0.95 from 6 values on, less below. */
  coverage: number;
}

/**
 * The median and its distribution-free interval: the k-th smallest and the k-th largest value, k the largest for
 * which a binomial(n, ½) falls below k with probability ≤ 2.5 %; the interval then holds the true median with
 * 1 − 2 · P(X < k) (for n = 21: the 6th and the 16th, 97.3 %). Where n is too small for 95 % (n < 6), the whole
 * range, with the coverage it really has, 1 − 2 · ½ⁿ: 75 % for three values, 93.8 % for five. Nothing is assumed
 * of the shape (test/targets.test.ts checks the coverage against the binomial for n up to 40).
 */
export function medianInterval(values: readonly number[]): MedianInterval | null {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return null;
  // below = P(binomial(n, ½) < k), k the interval's rank from either end
  let k = 1;
  let below = 0.5 ** n; // P(X < 1)
  for (let next = 1, pNext = 0.5 ** n; ; next++) {
    pNext = (pNext * (n - next + 1)) / next; // P(X = next)
    if (below + pNext > 0.025 || next + 1 > (n + 1) / 2) break;
    below += pNext;
    k = next + 1;
  }
  return {
    median: round3(percentile(sorted, 50)),
    low: round3(sorted[k - 1]!),
    high: round3(sorted[n - k]!),
    coverage: round3(1 - 2 * below),
  };
}
