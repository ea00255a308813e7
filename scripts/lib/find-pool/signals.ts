/**
 * Work that shares the cores, told from a pool by the completions alone (never this machine's core count: the target
 * may be elsewhere, or under a CPU quota), by two signals that must agree: the earliest answer moving out as N grows
 * (sharesCores), and the bursts' totals fitting the cores' N · w / cores better than the pool's steps (fitTotals).
 * Pure: read by the search (to stop doubling) and by the verdict.
 */
import { shapedByIntake, type Step } from './step.ts';

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
 * they wait behind what was left running. Nor a burst the server's intake shaped: a cold server slow to take
 * connections answers late for that (Jetty's first answers came at 1.25 and 1.44 · D in two such bursts).
 */
export function sharesCores(search: { steps: readonly Step[]; delayMs: number }): boolean {
  return search.steps.some(
    (s) =>
      s.requests >= 2 &&
      s.purpose !== 'settle' &&
      !shapedByIntake(s, search.delayMs) &&
      s.firstMs !== null &&
      s.firstMs > search.delayMs * MOVED_OUT,
  );
}

/**
 * Below this error (the mean |ln(total / model)| over the bursts answered in full) the pool's steps fit the totals,
 * whatever the cores' model does, and the work is not read as sharing the cores. The committed runs' pools fitted
 * within 0.082 (Apache's pool that changes size: 0.097), and within 0.067 beside a load average of 11 to 19 where
 * they fitted at all; hashes on 2 cores missed by 0.47, and by 0.32 to 0.49 beside that load.
 */
const POOL_FITS = 0.1;

/**
 * The cores' model fits clearly better where its error is at most this share of the pool's. Hashes on 2 cores: 0.07
 * (0.24 to 0.31 beside a load average of 11 to 19); pools misread by the first sign beside that load: 0.80 and 0.82.
 */
const CLEARLY_BETTER = 0.5;

/**
 * The two models say the same where the pool's P and the cores' c are this close (either way): a pool of one and one
 * core both give N · D. There the totals cannot tell, and the first sign decides alone (hashes on libuv's 4 threads
 * with a load average of 11 beside them ran as on one core: the first waves read P = 1, and c came out 1.2 to 1.5).
 */
const COINCIDE = 1.5;

/** How well each model fits the totals: the pool's steps ceil(N / P) · D, and the cores' max(1, N / c) · D. */
export interface TotalsFit {
  /** The bursts read: answered in full, two requests or more, not shaped by the server's intake. */
  bursts: number;
  /** Mean |ln(total / model)| of the pool's steps with the P read (one wave where none was). */
  poolError: number;
  /** The same for the cores' model with the c that fits best. */
  coresError: number;
  /** That c: requests' worth run side by side. */
  cores: number;
  /** The pool's steps miss the totals (beyond POOL_FITS), and the cores' model fits them clearly better. */
  fitsCores: boolean;
  /** The pool's steps fit the totals (within POOL_FITS): whatever else is seen, not CPU work. */
  poolFits: boolean;
  /** The two models differ on these bursts (P and c not within COINCIDE of each other): the totals can tell. */
  tells: boolean;
}

/**
 * The second signal: which model fits the totals of the bursts answered in full better, the pool's steps or the cores'
 * N · w / cores. Read from totals only, so it errs where the first (sharesCores, from the earliest answers) does not,
 * and the other way round: a busy machine delays one burst's first answer, not every total's step.
 */
export function fitTotals(search: { steps: readonly Step[]; delayMs: number; revealed: { poolSize: number } | null }): TotalsFit {
  const d = search.delayMs;
  // Bursts answered in full, and not shaped by the server's intake: a connection taken a second late adds a second
  // to a total that neither model has.
  const full = search.steps.filter(
    (s) => s.requests >= 2 && s.ok === s.requests && s.purpose !== 'settle' && s.purpose !== 'refusals?' && !shapedByIntake(s, d),
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
    fitsCores: poolError > POOL_FITS && coresError <= poolError * CLEARLY_BETTER,
    poolFits: poolError <= POOL_FITS,
    tells: Math.max(p / cores, cores / p) >= COINCIDE,
  };
}

/**
 * Both signals, and what they say together: work that shares the cores where the earliest answer moved out and the
 * totals agree (the cores' model fits them clearly better), or cannot tell (the two models coincide) but do not fit
 * the pool's steps.
 */
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
  const totalsAgree = totals.fitsCores || (!totals.tells && !totals.poolFits);
  return { firstAnswerMovedOut, totals, sharesCores: firstAnswerMovedOut && totalsAgree };
}
