/**
 * Work that shares the cores, told from a pool by the completions alone (never this machine's core count: the target
 * may be elsewhere, or under a CPU quota), by two signals that must agree: the earliest answer moving out as N grows
 * (sharesCores), and the bursts' totals fitting the cores' N · w / cores better than the pool's steps (fitTotals).
 * Pure: read by the search (to stop doubling) and by the verdict.
 */
import type { Step } from './step.ts';

/**
 * Work that shares the cores: a burst's earliest answer came this far beyond a request's own time (D). In a pool the
 * earliest answer is D whatever N is (a request that did not wait takes D): at most 1.11 · D in every burst of two or
 * more of every pool find-pool has met, the suite's own under half this machine's CPU and the outside servers
 * included (a request alone is another matter: sharesCores). Where requests share the cores it moves out, though not
 * always far: a burst's first request can start before the others are taken in, and run alone for a while. Bursts
 * of 4 and 8 hashes on libuv's 4 threads on 2 cores ended first at 1.0 to 4.3 · D, 19 of 323 below 1.5 · D and 8
 * below 1.25 · D (135 runs, 60 of them under half this machine's CPU or beside a busy process). The mark was 1.5,
 * and twice in CI every burst of a run stayed below it: such work passed for an uneven pool.
 */
export const MOVED_OUT = 1.25;

/**
 * Whether the work shares the cores: some burst of two or more had its earliest answer well after a request's own
 * time. A request alone shares the cores with nothing: when one is late (the first of all is the coldest: 1.23 · D
 * once under half this machine's CPU, beside at most 1.11 · D for every later burst of a pool), the server was
 * warming up or stalled, not sharing. Nor the requests that only waited for the server to settle after a hang-up:
 * they wait behind what was left running.
 */
export function sharesCores(search: { steps: readonly Step[]; delayMs: number }): boolean {
  return search.steps.some(
    (s) => s.requests >= 2 && s.purpose !== 'settle' && s.firstMs !== null && s.firstMs > search.delayMs * MOVED_OUT,
  );
}

/**
 * The second signal reads the totals of the bursts answered in full: the cores' model fits them better than the pool's
 * steps when its error is at most this share of the pool's. Both errors are the mean |ln(total / model)| over those
 * bursts. On the committed runs the pools' steps fitted within 0.03 (a pool of 40 at D = 3 s: 0.004), hashes on 2
 * cores fitted the cores' model within 0.04 where the pool's steps missed by 0.45.
 */
const FITS_BETTER = 0.5;

/**
 * Below this error the pool's steps fit the totals, whatever the cores' model does: a pool of one is also one core
 * (N · D either way), a pool larger than every burst is also many cores (D either way). A tie is no sign of CPU work.
 * The committed runs' pools fitted within 0.03 of it; a tenth is room for a busy machine's slower intake.
 */
const POOL_FITS = 0.1;

/** How well each model fits the totals: the pool's steps ceil(N / P) · D, and the cores' max(1, N / c) · D. */
export interface TotalsFit {
  /** The bursts read: answered in full, two requests or more. */
  bursts: number;
  /** Mean |ln(total / model)| of the pool's steps with the P read (one wave where none was). */
  poolError: number;
  /** The same for the cores' model with the c that fits best. */
  coresError: number;
  /** That c: requests' worth run side by side. */
  cores: number;
  /** The cores' model fits clearly better: work that shares the cores. */
  fitsCores: boolean;
}

/**
 * The second signal: which model fits the totals of the bursts answered in full better, the pool's steps or the cores'
 * N · w / cores. Read from totals only, so it errs where the first (sharesCores, from the earliest answers) does not,
 * and the other way round: a busy machine delays one burst's first answer, not every total's step.
 */
export function fitTotals(search: { steps: readonly Step[]; delayMs: number; revealed: { poolSize: number } | null }): TotalsFit {
  const d = search.delayMs;
  const full = search.steps.filter(
    (s) => s.requests >= 2 && s.ok === s.requests && s.purpose !== 'settle' && s.purpose !== 'refusals?',
  );
  const error = (model: (n: number) => number) =>
    full.length === 0
      ? 0
      : full.reduce((sum, s) => sum + Math.abs(Math.log(s.burst.totalMs / model(s.requests))), 0) / full.length;
  const p = search.revealed?.poolSize ?? Number.POSITIVE_INFINITY;
  const poolError = error((n) => Math.max(1, Math.ceil(n / p)) * d);
  // c from each burst's own N · D / total, the best of them (and "as many as any burst"): the model's one parameter.
  const candidates = [Number.POSITIVE_INFINITY, ...full.map((s) => (s.requests * d) / s.burst.totalMs)];
  let cores = Number.POSITIVE_INFINITY;
  let coresError = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const e = error((n) => Math.max(1, n / c) * d);
    if (e < coresError) [cores, coresError] = [c, e];
  }
  return {
    bursts: full.length,
    poolError,
    coresError,
    cores,
    fitsCores: poolError > POOL_FITS && coresError <= poolError * FITS_BETTER,
  };
}

/** Both signals, and what they say together: work that shares the cores only where both say so. */
export interface CpuSignals {
  firstAnswerMovedOut: boolean;
  totals: TotalsFit;
  sharesCores: boolean;
}

export function cpuSignals(search: {
  steps: readonly Step[];
  delayMs: number;
  revealed: { poolSize: number } | null;
}): CpuSignals {
  const firstAnswerMovedOut = sharesCores(search);
  const totals = fitTotals(search);
  return { firstAnswerMovedOut, totals, sharesCores: firstAnswerMovedOut && totals.fitsCores };
}
