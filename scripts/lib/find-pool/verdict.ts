/**
 * What find-pool concludes from its bursts (./search.ts): the kind of limit, P and D, one plain sentence, a
 * well-known default of that size as a hint beside the measurement (./hints.ts; never instead of it), and the model's
 * total for every burst it fired with the P it concluded, so the reader sees the fit and not only the verdict.
 *
 * judge() reads the facts of a search once (factsOf), then asks its rules in order, the first that holds deciding:
 * CPU work, one pool, a pool that changes size (or several processes), a pool not confirmed, a budget that ran out,
 * no limit. Each rule is a function with its own sentence. The Finding type is the results contract's and documents
 * every field: about 300 lines, one job.
 */
import { isOk } from '../client/burst-types.ts';
import type { Search } from './search.ts';
import { shapedByIntake, type Step } from './step.ts';
import { cpuSignals, MOVED_OUT, type CpuSignals } from './signals.ts';
import { hintFor, hintForProcesses, NO_LIMIT_HINT } from './hints.ts';
import { corroborate, corroborationText, type ServerTimingCorroboration } from './server-timing.ts';
import { round3 } from '../../../server/numbers.ts';
import { duration } from '../view/table.ts';

export { hintFor, hintForProcesses } from './hints.ts';

export type FindingKind = 'pool' | 'none' | 'cpu' | 'uneven' | 'undecided';

/** One target's finding: the results contract's `findings` (shared with outside checks: keep the names). */
export interface Finding {
  /** The URL as given, `{id}` and all. */
  target: string;
  kind: FindingKind;
  /** Served at once: exact for a pool, the steps of CPU work where it comes in steps; else null. */
  poolSize: number | null;
  /** D: one request's own time, alone, ms. */
  delayMs: number;
  maxRequestsTried: number;
  /**
   * Refused beyond this many at once (503, 429, a reset): the server takes A (served and queued), and N = A + 1 is
   * the smallest burst with a refusal; null where nothing was refused.
   */
  refusedBeyond: number | null;
  sentence: string;
  /** A pool that grew under the bursts to poolSize (first waves that only grew): its first wave's size at first. */
  grewFrom?: number;
  /** uneven and undecided: what is known of P, at least and at most (null: no upper bound known). */
  poolSizeRange?: [number, number | null];
  /** CPU work: requests' worth of it done side by side, N · D / total, in the largest burst. */
  effectiveParallelism?: number;
  /** Several processes: the answers of each (by the header naming it) in the burst that showed P, and its own P. */
  perWorker?: Record<string, number>;
  perWorkerPoolSize?: Record<string, number>;
  /** Where requests were refused: N = A answered in full and N = A + 1 had one refused (else A is what a burst took). */
  refusedBeyondConfirmed?: boolean;
  /** How it refused, in the burst that first showed refusals, and that burst's N. */
  refusedWith?: Record<string, number>;
  refusedFirstIn?: number;
  /**
   * The two signs of work that shares the cores (both must hold for kind cpu): a burst's earliest answer moved out,
   * and the totals fit the cores' model better than the pool's steps (each model's mean |ln(total / model)|).
   */
  cpuSignals?: {
    firstAnswerMovedOut: boolean;
    totalsFitCores: boolean;
    /** The two models differ on these bursts (a pool of one and one core do not): the totals can tell. */
    totalsTell: boolean;
    poolStepsError: number;
    coresError: number;
  };
  /**
   * Where the answers carry Server-Timing `-wait` metrics: the waves the server itself counted in the burst that
   * revealed P (else the largest answered in full), and whether they agree. It corroborates; it never decides.
   */
  serverTiming?: ServerTimingCorroboration;
  /** Little's law as a cross-check: the completions per ms over the full waves × D. */
  littlesLawPoolSize?: number | null;
  /** A well-known default of this size, and what to change. */
  hint?: string;
  /** How the requests reached the server, and the slowest connect. */
  connections: string;
  /** The finding's bursts, in all, ms. */
  elapsedMs: number;
  /** The self-check only: what the server was started with. */
  configured?: {
    kind: FindingKind;
    poolSize: number | null;
    note: string;
    refusedBeyond?: number;
    /** CPU work given one core's worth of CPU or less (a quota): one request's worth at a time, also a pool of 1. */
    oneAtATime?: boolean;
  };
}

/**
 * Connections waited in the kernel to be accepted where the slowest connect took more than this much of a request's
 * own time. The committed runs' slowest connects were at most 0.074 · D (Apache's embedded pool, a burst of 256); a
 * Java servlet container with a backlog of 100 and one acceptor made connects wait 1.05 s at D = 1 s (a SYN
 * retransmitted after a second).
 */
const KERNEL_WAIT = 0.5;

/** What every rule reads: the search, and what is worked out of it once. */
interface Facts {
  search: Search;
  target: string;
  budgetMs: number;
  /** The fields every finding has. */
  base: Omit<Finding, 'kind' | 'poolSize' | 'sentence'>;
  /** D as the sentences say it. */
  d: string;
  /** The sentence's last part: how it refused, or that it took the probe without refusing. */
  refusals: string;
  /** Bursts with nothing refused and nothing failed. */
  served: Step[];
  /** The first waves of the served bursts that showed a second wave. */
  firstWaves: number[];
  /** How many processes answered (1 where the answers name none). */
  processes: number;
  /** The largest served burst answered in full: N · D / total, requests' worth side by side. */
  parallelism: number;
  littlesLaw: number | null;
  signals: CpuSignals;
  /** Where the two signs of CPU work disagree, what each said: appended to a sentence that is not CPU work's. */
  caveat: string;
  /** Where the server's intake shaped bursts: how, and what to look at next. Appended to every sentence. */
  intake: string;
  /** What the server's own Server-Timing says, where it sends one: appended to every sentence. */
  corroboration: string;
}

type Rule = (facts: Facts) => Finding | null;

/** The rules in the order they are asked; the first that holds decides. */
const RULES: Rule[] = [cpuWork, onePool, poolThatChanges, poolNotConfirmed, budgetRanOut, noLimit];

export function judge(search: Search, target: string, budgetMs: number): Finding {
  const facts = factsOf(search, target, budgetMs);
  for (const rule of RULES) {
    const finding = rule(facts);
    if (finding) return finding;
  }
  throw new Error('find-pool: no rule decided (noLimit always does)');
}

function factsOf(search: Search, target: string, budgetMs: number): Facts {
  const { steps, delayMs, refusals: refused } = search;
  const served = steps.filter((s) => s.refused === 0 && s.failed === 0);
  const largest = [...served].reverse().find((s) => s.ok === s.requests && s.requests > 1) ?? steps[0]!;
  const slowConnect = Math.max(...steps.map((s) => s.slowestConnectMs));
  const waited = slowConnect > delayMs * KERNEL_WAIT ? ', so connections waited in the kernel to be accepted' : '';
  const processes =
    Object.keys(search.poolPerProcess).length || new Set(steps.flatMap((s) => Object.keys(s.perWorker))).size || 1;
  const signals = cpuSignals(search);
  const { totals } = signals;
  const serverTiming = corroborate(search.revealed?.step ?? largest, delayMs);
  return {
    search,
    target,
    budgetMs,
    base: {
      target,
      delayMs: round3(delayMs),
      maxRequestsTried: Math.max(...steps.map((s) => s.requests)),
      refusedBeyond: refused?.acceptedAtOnce ?? null,
      ...(refused
        ? {
            refusedBeyondConfirmed: refused.confirmed,
            refusedWith: refused.seenIn.refusedKinds,
            refusedFirstIn: refused.seenIn.requests,
          }
        : {}),
      connections: `each request on a new connection, timed from its connect (the slowest connect: ${slowConnect.toFixed(1)} ms${waited})`,
      elapsedMs: search.elapsedMs,
      ...(serverTiming ? { serverTiming } : {}),
      cpuSignals: {
        firstAnswerMovedOut: signals.firstAnswerMovedOut,
        totalsFitCores: totals.fitsCores,
        totalsTell: totals.tells,
        poolStepsError: round3(totals.poolError),
        coresError: round3(totals.coresError),
      },
    },
    d: duration(delayMs),
    refusals: refusalsText(search),
    served,
    firstWaves: firstWavesOf(served, search.waveUnitMs),
    processes,
    parallelism: round3((largest.requests * delayMs) / Math.max(largest.burst.totalMs, 0.001)),
    littlesLaw: search.revealed ? littlesLaw(search.revealed.step, delayMs) : null,
    signals,
    caveat: caveatOf(signals, delayMs),
    intake: intakeText(steps, search.waveUnitMs),
    corroboration: serverTiming ? corroborationText(serverTiming) : '',
  };
}

/**
 * The first waves of the bursts that showed a second one, read from each request's own start. A burst the server's
 * intake shaped (it took some requests late) says what its intake let in at once, not its pool: left out where
 * others say it.
 */
function firstWavesOf(served: readonly Step[], waveUnitMs: number): number[] {
  const showing = served.filter((s) => s.poolWaves.length >= 2);
  const clean = showing.filter((s) => !shapedByIntake(s, waveUnitMs));
  return (clean.length > 0 ? clean : showing).map((s) => s.poolWaves[0]!);
}

/** The server took connections slower than the bursts came: how long they waited, and what came late for it. */
function intakeText(steps: readonly Step[], waveUnitMs: number): string {
  const shaped = steps.filter((s) => s.purpose !== 'refusals?' && shapedByIntake(s, waveUnitMs));
  if (shaped.length === 0) return '';
  const slowest = Math.max(...shaped.map((s) => s.slowestConnectMs));
  const late = shaped.filter((s) => s.late > 0);
  const lateText =
    late.length > 0
      ? `, and ${late.map((s) => `${s.late} of N = ${s.requests}`).join(', ')} ended a wave late only because they were taken late (read from each request's own start, they did not wait for a place)`
      : '';
  return ` The server's intake shaped ${plural(shaped.length, 'burst')}: connections waited up to ${Math.round(slowest)} ms to be taken${lateText}. Its listen backlog (net.core.somaxconn, the server's backlog or acceptCount) or its acceptor is the next thing to look at.`;
}

/** One sign of CPU work without the other: said, and not taken for it. */
function caveatOf(signals: CpuSignals, delayMs: number): string {
  const { firstAnswerMovedOut, totals, sharesCores } = signals;
  if (sharesCores) return '';
  const errors = `the pool's steps within ${percent(totals.poolError)}, shared cores within ${percent(totals.coresError)}`;
  if (firstAnswerMovedOut)
    return ` A burst's earliest answer came late (beyond ${duration(delayMs * MOVED_OUT)}), but the totals do not fit shared cores clearly better than a pool (${errors}): read as a busy moment, not CPU work.`;
  if (totals.fitsCores)
    return ` The totals fit shared cores better than a pool (${errors}), but no burst's earliest answer came late: not read as CPU work.`;
  return '';
}

function percent(error: number): string {
  return `${Math.round((Math.exp(error) - 1) * 100)} %`;
}

/** Where it refused: how many it takes at once (A; the smallest N with a refusal is A + 1), and how it refused. */
function refusalsText(search: Search): string {
  const refused = search.refusals;
  if (!refused) return search.probed ? ` It took ${search.probed} at once without refusing any.` : '';
  const a = refused.acceptedAtOnce;
  const edge = refused.confirmed
    ? `N = ${a} answered in full, N = ${a + 1} had one refused`
    : `${a} is what that burst had taken, not confirmed by N = A and A + 1`;
  return ` Beyond ${a} at once it refuses (${kinds(refused.seenIn.refusedKinds)} in a burst of ${refused.seenIn.requests}; ${edge}).`;
}

/**
 * CPU work that shares the cores: the earliest answer moved out and the totals fit the cores' model better
 * (./signals.ts); P where answers still came in steps.
 */
function cpuWork(f: Facts): Finding | null {
  if (!f.signals.sharesCores) return null;
  const { revealed, confirmed } = f.search;
  const steps = revealed && confirmed ? revealed.poolSize : null;
  const how = steps
    ? `, in steps of ${steps} (${steps} threads on fewer cores).`
    : ', and they end together (more threads than cores).';
  return {
    ...f.base,
    kind: 'cpu',
    poolSize: steps,
    effectiveParallelism: f.parallelism,
    sentence: `${f.target} is CPU work of ${f.d} a request that shares the cores: ${f.parallelism.toFixed(1)} requests' worth run side by side${how}${f.refusals}${f.intake}${f.corroboration}`,
  };
}

/**
 * One pool, confirmed, one process: every first wave held P, or they only grew, burst after burst, up to the P it then
 * held (a pool that starts small and adds workers under load, as php-fpm's pm = dynamic): a pool, and it says it grew.
 */
function onePool(f: Facts): Finding | null {
  const { revealed, confirmed, steps } = f.search;
  if (!revealed || f.processes !== 1 || !confirmed) return null;
  const p = revealed.poolSize;
  const firstWaves = f.firstWaves;
  const grew = firstWaves.every((size, i) => i === 0 || size >= firstWaves[i - 1]!) && firstWaves.at(-1) === p;
  if (new Set(firstWaves).size !== 1 && !grew) return null;
  const hint = hintFor(p);
  const three = steps.some((s) => s.requests === 2 * p + 1 && s.poolWaves.length === 3) ? `, N = ${2 * p + 1} in three` : '';
  const from = Math.min(...firstWaves);
  const grown =
    from < p
      ? ` It grew there: the first waves held ${[...new Set(firstWaves)].join(', then ')} as the bursts came (a pool that starts small and adds workers under load).`
      : '';
  return {
    ...f.base,
    kind: 'pool',
    poolSize: p,
    ...(from < p ? { grewFrom: from } : {}),
    sentence: `${f.target} serves ${plural(p, 'request')} at once, each for ${f.d}: a pool of ${p}. N = ${p} ran in one wave, N = ${p + 1} in two${three}.${grown}${f.refusals}${f.caveat}${f.intake}${f.corroboration}`,
    littlesLawPoolSize: f.littlesLaw,
    ...(hint ? { hint } : {}),
  };
}

/**
 * Several processes, or first waves that differ from burst to burst, or more than P in one wave after P was read (the
 * pool is larger now than it was: it grows under load): uneven, with the range seen.
 */
function poolThatChanges(f: Facts): Finding | null {
  const { revealed } = f.search;
  if (!revealed) return null;
  const oneWaveBeyond = f.served.filter(
    (s) => s.poolWaves.length === 1 && s.requests > revealed.poolSize && !shapedByIntake(s, f.search.waveUnitMs),
  );
  const sizesSeen = [...f.firstWaves, ...oneWaveBeyond.map((s) => s.requests)];
  if (f.processes === 1 && new Set(sizesSeen).size <= 1) return null;
  const range: [number, number] = [Math.min(...sizesSeen), Math.max(...sizesSeen)];
  const served =
    range[0] === range[1]
      ? `${range[0]} at once in its first wave`
      : `${range[0]} to ${range[1]} at once, a different number from burst to burst`;
  const several = f.processes > 1;
  const hint = several ? processesHint(f) : mostHeldHint(range[1]);
  return {
    ...f.base,
    kind: 'uneven',
    poolSize: null,
    poolSizeRange: range,
    ...(several ? { perWorker: revealed.step.perWorker, perWorkerPoolSize: f.search.poolPerProcess } : {}),
    littlesLawPoolSize: f.littlesLaw,
    ...(hint ? { hint } : {}),
    sentence: `${f.target} served ${served}, each request for ${f.d}: ${several ? processesText(f) : 'the pool does not stay one size (it grows under load, or several processes share it).'}${f.refusals}${f.caveat}${f.intake}${f.corroboration}`,
  };
}

function processesText(f: Facts): string {
  const pools = f.search.poolPerProcess;
  const sum = Object.values(pools).reduce((a, b) => a + b, 0);
  const step = f.search.revealed!.step;
  return `${f.processes} processes, each with a pool of its own (${splitText(pools)}: ${sum} in all, when a burst is split evenly), and the bursts were split unevenly (${splitText(step.perWorker)} in the burst of ${step.requests}).`;
}

/** Several processes: the hint for their pools, once every process showed its own. */
function processesHint(f: Facts): string | undefined {
  const pools = Object.values(f.search.poolPerProcess);
  return pools.length === f.processes ? hintForProcesses(pools) : undefined;
}

/** A pool that changes size: the hint for the most it held, where that is a well-known default. */
function mostHeldHint(most: number): string | undefined {
  const hint = hintFor(most);
  return hint && `at most ${most}: ${hint}`;
}

/** P read from a second wave, but no second burst agreed (or the budget ran out first): undecided, P as far as known. */
function poolNotConfirmed(f: Facts): Finding | null {
  const { revealed, outOfBudget } = f.search;
  if (!revealed) return null;
  const p = revealed.poolSize;
  const why = outOfBudget ? `the budget of ${duration(f.budgetMs)} ran out before` : 'no second burst agreed:';
  return {
    ...f.base,
    kind: 'undecided',
    poolSize: null,
    poolSizeRange: [p, p],
    littlesLawPoolSize: f.littlesLaw,
    sentence: `${f.target}: the first wave held ${p}, but ${why} N = ${p} in one wave and N = ${p + 1} in two.${f.refusals}${f.caveat}${f.intake}${f.corroboration}`,
  };
}

/** No second wave yet, and the budget ran out: at least the largest burst served in one wave. */
function budgetRanOut(f: Facts): Finding | null {
  if (!f.search.outOfBudget) return null;
  return {
    ...f.base,
    kind: 'undecided',
    poolSize: null,
    poolSizeRange: [f.search.oneWaveUpTo, null],
    sentence: `${f.target}: the budget of ${duration(f.budgetMs)} ran out first; it serves at least ${f.search.oneWaveUpTo} at once, each for ${f.d}.${f.refusals}${f.caveat}${f.intake}${f.corroboration}`,
  };
}

/** One wave up to the largest burst: no limit up to there. */
function noLimit(f: Facts): Finding {
  const upTo = f.search.oneWaveUpTo;
  const most = f.search.maxRequests;
  const further =
    upTo === most ? ` (the largest pool it could find with --max-requests ${most} is ${most - 1}; raise it to look further)` : '';
  return {
    ...f.base,
    kind: 'none',
    poolSize: null,
    ...(upTo === most ? { hint: `no limit up to ${upTo}: ${NO_LIMIT_HINT}.` } : {}),
    sentence: `${f.target} served ${plural(upTo, 'request')} at once in one wave of ${f.d}: no limit up to ${upTo}${further}.${f.refusals}${f.caveat}${f.intake}${f.corroboration}`,
  };
}

/**
 * The self-check's rule: whether a finding is what its server was started with. A pool exactly (and its queue's edge
 * where there is one); several processes as such, or as one pool of their sum; CPU work as CPU work, in steps of P
 * where it says P. CPU work on P threads that each have a core of their own is also a pool of P, while the cores are
 * free (Bun's hashes on its pool of the cores); on one core's worth of CPU, also a pool of 1.
 */
export function matchesConfigured(f: Finding): boolean {
  const c = f.configured!;
  if (c.kind === 'uneven') return f.kind === 'uneven' || (f.kind === 'pool' && f.poolSize === c.poolSize);
  if (c.kind === 'cpu') {
    if (c.oneAtATime && f.kind === 'pool') return f.poolSize === 1;
    if (c.poolSize !== null && f.kind === 'pool') return f.poolSize === c.poolSize;
    return f.kind === 'cpu' && (c.poolSize === null || f.poolSize === null || f.poolSize === c.poolSize);
  }
  const refusals = c.refusedBeyond === undefined || (f.refusedBeyond === c.refusedBeyond && f.refusedBeyondConfirmed === true);
  return f.kind === c.kind && f.poolSize === c.poolSize && refusals;
}

/** The model's total for a burst whose `served` requests were not refused, with what was concluded; null: no model. */
export function modelMs(finding: Finding, served: number): number | null {
  const d = finding.delayMs;
  if (finding.kind === 'none') return d;
  if (finding.kind === 'pool' && finding.poolSize) return Math.ceil(served / finding.poolSize) * d;
  if (finding.kind === 'cpu' && finding.effectiveParallelism) {
    const par = finding.effectiveParallelism;
    const wave = (k: number) => Math.max(1, k / par) * d;
    if (!finding.poolSize) return round3(wave(served));
    const rest = served % finding.poolSize;
    return round3(Math.floor(served / finding.poolSize) * wave(finding.poolSize) + (rest > 0 ? wave(rest) : 0));
  }
  return null;
}

/**
 * Little's law, L = λ · W: over the full waves (all but the last), completions per ms times D is how many were in
 * service at once. A cross-check of P read from another side: throughput, not the first wave's count.
 */
function littlesLaw(step: Step, delayMs: number): number | null {
  if (step.waves.length < 2) return null;
  const ends = step.burst.requests
    .filter(isOk)
    .map((r) => r.endMs)
    .sort((a, b) => a - b);
  const full = ends.length - step.waves.at(-1)!;
  const lastOfFull = ends[full - 1]!;
  return lastOfFull > 0 ? round3((full / lastOfFull) * delayMs) : null;
}

function kinds(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([kind, n]) => `${n} × ${kind}`)
    .join(', ');
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

function splitText(counts: Record<string, number>): string {
  return Object.values(counts).join('/');
}
