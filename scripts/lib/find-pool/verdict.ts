/**
 * What find-pool concludes from its bursts (./pool-finder.ts): the kind of limit, P and D, one plain sentence, a
 * well-known default of that size as a hint beside the measurement (never instead of it), and the model's total for
 * every burst it fired with the P it concluded, so the reader sees the fit and not only the verdict.
 *
 * About 270 lines: judge() is one branch per kind, each with its sentence, and the table of well-known pools sits
 * beside the hints it gives; the Finding type is the results contract's and documents every field.
 */
import { isOk } from '../client/burst-types.ts';
import { sharesCores, type Search, type Step } from './search.ts';
import { round3 } from '../../../server/numbers.ts';
import { duration } from '../view/table.ts';

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
  /** Little's law as a cross-check: the completions per ms over the full waves × D. */
  littlesLawPoolSize?: number | null;
  /** A well-known default of this size, and what to change. */
  hint?: string;
  /** How the requests reached the server, and the slowest connect. */
  connections: string;
  /** The finding's bursts, in all, ms. */
  elapsedMs: number;
  /** The self-check only: what the server was started with. */
  configured?: { kind: FindingKind; poolSize: number | null; note: string; refusedBeyond?: number };
}

/** Pools of a well-known default size, what they are, and what to change. Matched on P exactly. */
const KNOWN_POOLS: { size: number; what: string; change: string }[] = [
  {
    size: 1,
    what: "one request at a time: gunicorn's default (one sync worker), uWSGI's single process, or an event loop blocked by synchronous work",
    change: 'more workers or threads (gunicorn --workers/--threads), or the blocking work off the event loop',
  },
  {
    size: 4,
    what: "libuv's threadpool (UV_THREADPOOL_SIZE), or waitress's 4 threads",
    change: 'UV_THREADPOOL_SIZE at start, or waitress --threads',
  },
  {
    size: 5,
    what: "php-fpm's pm.max_children (5 in Debian's www.conf), or Puma's 5 threads",
    change: "pm.max_children in the pool's .conf",
  },
  { size: 10, what: "node-postgres' pg.Pool (max 10)", change: "new Pool({ max }), below the database's max_connections" },
  { size: 15, what: "mod_wsgi's daemon process (15 threads)", change: 'WSGIDaemonProcess threads=' },
  {
    size: 40,
    what: "anyio's CapacityLimiter(40), which FastAPI and Starlette run every plain `def` endpoint through (and this suite's server.ts --pool, which copies it)",
    change: 'anyio.to_thread.current_default_thread_limiter().total_tokens, or make the endpoint `async def`',
  },
  { size: 150, what: "Apache's MaxRequestWorkers (150)", change: 'MaxRequestWorkers in mpm_event.conf' },
  { size: 200, what: "Tomcat's maxThreads (200; Spring Boot's server.tomcat.threads.max)", change: 'server.tomcat.threads.max' },
];

export function hintFor(poolSize: number, processes = 1): string | undefined {
  const each = poolSize % processes === 0 ? poolSize / processes : null;
  const known = KNOWN_POOLS.find((k) => k.size === (each ?? poolSize));
  if (!known) return undefined;
  const per = processes > 1 ? `${processes} processes × ${each}: ` : '';
  return `${per}${each ?? poolSize} is ${known.what}; to change it: ${known.change}.`;
}

export function judge(search: Search, target: string, budgetMs: number): Finding {
  const { steps, delayMs } = search;
  const cpu = sharesCores(search);
  const maxRequestsTried = Math.max(...steps.map((s) => s.requests));
  // Where it refused: how many it takes at once (A; the smallest N with a refusal is A + 1), and how it refused.
  const refused = search.refusals;
  const served = steps.filter((s) => s.refused === 0 && s.failed === 0);
  const largest = [...served].reverse().find((s) => s.ok === s.requests && s.requests > 1) ?? steps[0]!;
  const parallelism = round3((largest.requests * delayMs) / Math.max(largest.burst.totalMs, 0.001));
  const slowConnect = Math.max(...steps.map((s) => s.slowestConnectMs));
  const base = {
    target,
    delayMs: round3(delayMs),
    maxRequestsTried,
    refusedBeyond: refused?.acceptedAtOnce ?? null,
    ...(refused
      ? {
          refusedBeyondConfirmed: refused.confirmed,
          refusedWith: refused.seenIn.refusedKinds,
          refusedFirstIn: refused.seenIn.requests,
        }
      : {}),
    connections:
      `each request on a new connection, timed from its connect (the slowest connect: ${slowConnect.toFixed(1)} ms` +
      `${slowConnect > delayMs / 2 ? ', so connections waited in the kernel to be accepted' : ''})`,
    elapsedMs: search.elapsedMs,
  };
  const refusals = refused
    ? ` Beyond ${refused.acceptedAtOnce} at once it refuses (${kinds(refused.seenIn.refusedKinds)} in a burst of ${refused.seenIn.requests}` +
      (refused.confirmed
        ? `; N = ${refused.acceptedAtOnce} answered in full, N = ${refused.acceptedAtOnce + 1} had one refused).`
        : `; ${refused.acceptedAtOnce} is what that burst had taken, not confirmed by N = A and A + 1).`)
    : search.probed
      ? ` It took ${search.probed} at once without refusing any.`
      : '';
  const d = duration(delayMs);
  const firstWaves = served.filter((s) => s.waves.length >= 2).map((s) => s.waves[0]!);
  const revealed = search.revealed;
  const processes =
    Object.keys(search.poolPerProcess).length || new Set(steps.flatMap((s) => Object.keys(s.perWorker))).size || 1;
  const little = revealed ? littlesLaw(revealed.step, delayMs) : null;

  if (cpu) {
    const steps = revealed && search.confirmed ? revealed.poolSize : null;
    return {
      ...base,
      kind: 'cpu',
      poolSize: steps,
      effectiveParallelism: parallelism,
      sentence:
        `${target} is CPU work of ${d} a request that shares the cores: ${parallelism.toFixed(1)} requests' worth run side by side` +
        (steps
          ? `, in steps of ${steps} (${steps} threads on fewer cores).`
          : ', and they end together (more threads than cores).') +
        refusals,
    };
  }
  // A pool that starts small and adds workers under load (php-fpm's pm = dynamic) shows first waves that only grow,
  // burst after burst, up to the P it then holds: confirmed at that P, it is a pool, and the sentence says it grew.
  const grew = firstWaves.every((size, i) => i === 0 || size >= firstWaves[i - 1]!) && firstWaves.at(-1) === revealed?.poolSize;
  if (revealed && processes === 1 && search.confirmed && (new Set(firstWaves).size === 1 || grew)) {
    const p = revealed.poolSize;
    const hint = hintFor(p);
    const three = steps.some((s) => s.requests === 2 * p + 1 && s.waves.length === 3) ? `, N = ${2 * p + 1} in three` : '';
    const from = Math.min(...firstWaves);
    const grown =
      from < p
        ? ` It grew there: the first waves held ${[...new Set(firstWaves)].join(', then ')} as the bursts came (a pool that starts small and adds workers under load).`
        : '';
    return {
      ...base,
      kind: 'pool',
      poolSize: p,
      ...(from < p ? { grewFrom: from } : {}),
      sentence: `${target} serves ${plural(p, 'request')} at once, each for ${d}: a pool of ${p}. N = ${p} ran in one wave, N = ${p + 1} in two${three}.${grown}${refusals}`,
      littlesLawPoolSize: little,
      ...(hint ? { hint } : {}),
    };
  }
  // More than P in one wave after P was read: the pool is larger now than it was (it grows under load).
  const oneWaveBeyond = revealed ? served.filter((s) => s.waves.length === 1 && s.requests > revealed.poolSize) : [];
  const sizesSeen = [...firstWaves, ...oneWaveBeyond.map((s) => s.requests)];
  if (revealed && (processes > 1 || new Set(sizesSeen).size > 1)) {
    const range: [number, number] = [Math.min(...sizesSeen), Math.max(...sizesSeen)];
    const pools = search.poolPerProcess;
    const sum = Object.values(pools).reduce((a, b) => a + b, 0);
    const hint =
      processes > 1
        ? Object.keys(pools).length === processes
          ? hintFor(sum, processes)
          : undefined
        : hintFor(range[1]) && `at most ${range[1]}: ${hintFor(range[1])}`;
    return {
      ...base,
      kind: 'uneven',
      poolSize: null,
      poolSizeRange: range,
      ...(processes > 1 ? { perWorker: revealed.step.perWorker, perWorkerPoolSize: pools } : {}),
      littlesLawPoolSize: little,
      ...(hint ? { hint } : {}),
      sentence:
        `${target} served ${range[0] === range[1] ? `${range[0]} at once in its first wave` : `${range[0]} to ${range[1]} at once, a different number from burst to burst`}, each request for ${d}` +
        (processes > 1
          ? `: ${processes} processes, each with a pool of its own (${splitText(pools)}: ${sum} in all, when a burst is split evenly), and the bursts were split unevenly (${splitText(revealed.step.perWorker)} in the burst of ${revealed.step.requests}).`
          : ': the pool does not stay one size (it grows under load, or several processes share it).') +
        refusals,
    };
  }
  if (revealed) {
    const p = revealed.poolSize;
    const why = search.outOfBudget ? `the budget of ${duration(budgetMs)} ran out before` : 'no second burst agreed:';
    return {
      ...base,
      kind: 'undecided',
      poolSize: null,
      poolSizeRange: [p, p],
      littlesLawPoolSize: little,
      sentence: `${target}: the first wave held ${p}, but ${why} N = ${p} in one wave and N = ${p + 1} in two.${refusals}`,
    };
  }
  if (search.outOfBudget) {
    return {
      ...base,
      kind: 'undecided',
      poolSize: null,
      poolSizeRange: [search.oneWaveUpTo, null],
      sentence: `${target}: the budget of ${duration(budgetMs)} ran out first; it serves at least ${search.oneWaveUpTo} at once, each for ${d}.${refusals}`,
    };
  }
  const upTo = search.oneWaveUpTo;
  return {
    ...base,
    kind: 'none',
    poolSize: null,
    sentence: `${target} served ${plural(upTo, 'request')} at once in one wave of ${d}: no limit up to ${upTo}.${refusals}`,
  };
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
