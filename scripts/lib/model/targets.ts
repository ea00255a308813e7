/**
 * A target: a figure the suite holds itself to, judged only on evidence that could have failed it. A target passes
 * when the measurement shows it met; misses when the measurement shows it did not; and, where this run's evidence
 * cannot tell (too few runs for a real interval, or an interval on both sides of the limit), says "inconclusive",
 * which is never a pass. Arithmetic only: the experiments gather the figures, this judges them.
 */
import type { MedianInterval } from './percentiles.ts';

export type Verdict = 'pass' | 'miss' | 'inconclusive';

/** One target of a results file, as the file records it and the report shows it. */
export interface Target {
  /** What is measured, e.g. "suite client ÷ reference, async burst, N = 1000 (paired runs)". */
  figure: string;
  /** What it must be, e.g. "≤ 1.05". */
  target: string;
  /** What this run measured, written out. */
  measured: string;
  verdict: Verdict;
  /** Why this run cannot tell (inconclusive only). */
  why?: string;
}

/**
 * The least coverage an interval needs to count as evidence. Below it, whatever the interval holds, the target is
 * inconclusive: three paired runs make an interval (their whole range) that holds the true median 75 % of the time,
 * so a run whose three ratios all sat under the limit would pass one time in four by luck alone.
 */
export const MIN_COVERAGE = 0.9;

/**
 * A median (of paired ratios, say) held to at most `limit`, by its interval: pass when the whole interval is at or
 * under the limit, miss when it is wholly above, inconclusive when it reaches both sides or covers less than
 * MIN_COVERAGE. The median alone never decides: a median of 1.11 from three runs spread 0.99–1.14 is not a miss, and
 * a median of 0.99 from three runs is not a pass.
 */
export function judgeMedianAtMost(interval: MedianInterval | null, limit: number): Pick<Target, 'verdict' | 'why'> {
  if (interval === null) return { verdict: 'inconclusive', why: 'no paired runs to judge' };
  if (interval.coverage < MIN_COVERAGE) {
    return {
      verdict: 'inconclusive',
      why: `the interval holds the median only ${percent(interval.coverage)} of the time, under ${percent(MIN_COVERAGE)}: too few runs`,
    };
  }
  if (interval.high <= limit) return { verdict: 'pass' };
  if (interval.low > limit) return { verdict: 'miss' };
  return { verdict: 'inconclusive', why: `the interval reaches both sides of ${limit}: this run's noise cannot tell` };
}

/** One measured figure held to at most `limit` (a figure measured once, whose own error is far inside the margin). */
export function judgeAtMost(value: number, limit: number): Verdict {
  return value <= limit ? 'pass' : 'miss';
}

/** The word a table shows for a verdict: a miss stands out. */
export function verdictWord(verdict: Verdict): string {
  return verdict === 'miss' ? 'MISS' : verdict;
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 1000) / 10} %`;
}
