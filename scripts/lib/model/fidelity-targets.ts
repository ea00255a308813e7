/**
 * The targets fidelity.ts holds the suite to, none of them a number of ms written for one machine, each judged only
 * on evidence that could have failed it (./targets.ts):
 *  - every async total is D + the server's intake + its output, within 5 %: nothing else hides in it;
 *  - the suite's client is no slower than the reference wherever a burst is long enough for the client to matter
 *    (N ≥ 1000): the median of the paired runs' ratios is at most 1.05, judged by its interval (at least
 *    PAIRS_FOR_A_TARGET pairs, so that the interval is evidence at all);
 *  - the sync burst takes the model plus, for each wave, at most what answering N requests costs this machine (the
 *    /health burst of the same N, in the same run).
 */
import { predictWaves } from './model.ts';
import type { MedianInterval } from './percentiles.ts';
import { formatFigure } from './rounding.ts';
import { judgeAtMost, judgeMedianAtMost, type Target } from './targets.ts';

/** How far D + intake + output may be from a total. */
export const ACCOUNT_LIMIT = 0.05;
/** How much slower than the reference the suite's client may be. */
export const RATIO_LIMIT = 1.05;
/** The smallest burst where the client's own cost is judged: below it a burst is over before the client matters. */
export const JUDGED_FROM_REQUESTS = 1000;
/**
 * Paired runs wherever a ratio is judged. Six pairs are the fewest whose interval reaches 90 %: their whole range
 * holds the true median with 1 − 2 · ½⁶ = 96.9 % (five: 93.8 %, close to the edge; three: 75 %, which let a run pass
 * on luck).
 */
export const PAIRS_FOR_A_TARGET = 6;

/** What fidelity measured, as the targets need it. */
export interface FidelityEvidence {
  /** The suite's async bursts: N, the total, and the server's D + intake + output of the same burst. */
  asyncBursts: { requests: number; totalMs: number; accountedMs: number }[];
  /** suite ÷ reference, run by run against the turn beside it: the median and its interval, by burst. */
  pairedRatios: { kind: 'async' | 'trivial'; requests: number; interval: MedianInterval | null }[];
  /** The blog's sync burst, and the machine's cost of answering as many requests (/health, same N, same run). */
  sync: {
    requests: number;
    poolSize: number | null;
    delayMs: number;
    predictedMs: number;
    totalMs: number;
    errors: number;
    healthMs: number;
  } | null;
}

export function fidelityTargets(evidence: FidelityEvidence): Target[] {
  const targets: Target[] = [];
  for (const burst of evidence.asyncBursts) {
    const gap = burst.totalMs / burst.accountedMs - 1;
    targets.push({
      figure: `async, N = ${burst.requests}: D + intake + output, of the total`,
      target: `within ${formatFigure(ACCOUNT_LIMIT, 'pct0')}`,
      measured: `${formatFigure(burst.accountedMs, 'ms1')} of ${formatFigure(burst.totalMs, 'ms1')} (${formatFigure(gap, 'pct1')})`,
      verdict: judgeAtMost(Math.abs(gap), ACCOUNT_LIMIT),
    });
  }
  for (const { kind, requests, interval } of evidence.pairedRatios) {
    if (requests < JUDGED_FROM_REQUESTS) continue;
    targets.push({
      figure: `suite client ÷ reference, ${kind} burst, N = ${requests} (paired runs)`,
      target: `≤ ${RATIO_LIMIT}, the whole interval`,
      measured: interval
        ? `${formatFigure(interval.median, 'n3')} (${formatFigure(interval.low, 'n3')}–${formatFigure(interval.high, 'n3')}, ${formatFigure(interval.coverage, 'pct0')})`
        : '–',
      ...judgeMedianAtMost(interval, RATIO_LIMIT),
    });
  }
  const { sync } = evidence;
  if (sync) {
    const waves = predictWaves(sync);
    const limitMs = sync.predictedMs + waves * sync.healthMs;
    targets.push({
      figure: `sync, N = ${sync.requests}, P = ${sync.poolSize}: total`,
      target: `≤ model + ${waves} × /health × ${sync.requests} = ${formatFigure(limitMs, 'ms1')}`,
      measured: `${formatFigure(sync.totalMs, 'ms1')}, ${sync.errors} errors`,
      verdict: sync.errors === 0 ? judgeAtMost(sync.totalMs, limitMs) : 'miss',
    });
  }
  return targets;
}
