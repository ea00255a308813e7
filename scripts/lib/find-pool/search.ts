/**
 * Finding the pool of any HTTP endpoint from the outside, with nothing but bursts of requests: how many it serves at
 * once (P), for how long each (D), and what kind of limit that is. The model ceil(N / P) · D, read backwards.
 *
 * How: one request first (D, and whether the endpoint answers at all); then bursts of N = 2, 4, 8, … until a
 * second wave appears (./waves.ts: no request of a later wave can end before the first one plus D), and P is the
 * first wave; then N = P must end in one wave and N = P + 1 in two (and N = 2P + 1 in three where no burst held 1.5 · P
 * yet: CPU work sharing P cores would show there). Doubling, not a binary search with full bursts:
 * the burst that shows a second wave already says how many the first held. Every request is timed from its own
 * connect (a server that is slow to accept shows), on a connection of its own, with a deadline: the budget.
 *
 * What it tells apart, by the shape of the completions only (never this machine's core count: the target may be
 * elsewhere, or under a CPU quota): a pool (clean waves of D), no limit up to the largest N allowed, CPU work that
 * shares the cores (the earliest completion moves out as N grows), several processes that split a burst unevenly,
 * a bounded queue that refuses beyond some N, and what it cannot decide within the budget. ./pool-verdict.ts says it.
 *
 * About 380 lines in one file on purpose: the search is one sequence (the first request, the doubling, the
 * confirmation, the refusals), each step reading what the steps before it found; apart, a reader would chase that
 * state across files.
 */
import { fireBurst } from '../client/burst.ts';
import { errorKindOf, isOk, isRefusal, type BurstResult, type RequestShape } from '../client/burst-types.ts';
import { wavesOf } from '../model/waves.ts';
import { UserError } from '../core/outcomes.ts';
import { round3 } from '../../../server/numbers.ts';

export interface FinderOptions {
  /** The endpoint; `{id}` is replaced by a different integer in every request. */
  url: string;
  request: RequestShape;
  /** https:// with a certificate nobody signed. */
  insecure: boolean;
  /** The response header that names the process that answered. */
  workerHeader: string;
  /** The most requests in one burst. */
  maxRequests: number;
  /** The most time the whole finding may take, bursts included, ms. */
  budgetMs: number;
  signal?: AbortSignal;
  /** Told the plan before the first burst, each burst as it ends, and what it notices on the way. */
  onPlan?: (plan: string) => void;
  onNote?: (note: string) => void;
  onStep?: (step: Step) => void;
}

/** Why a burst was fired. */
export type Purpose =
  | 'first'
  | 'doubling'
  | 'N = P'
  | 'N = P + 1'
  | 'N = 2P + 1'
  | 'refusals?'
  | 'settle'
  | 'N = A'
  | 'N = A + 1';

/** One burst and what its completions say. */
export interface Step {
  requests: number;
  purpose: Purpose;
  burst: BurstResult;
  /** 2xx answers. */
  ok: number;
  /** Refused: 503 or 429 answers, and connections reset or closed without an answer. */
  refused: number;
  refusedKinds: Record<string, number>;
  /** Anything else: another status, a timeout. */
  failed: number;
  failedKinds: Record<string, number>;
  /** The earliest 2xx answer, timed from its connect, ms: one wave's time (D, or more where the work shares cores). */
  firstMs: number | null;
  /** The 2xx answers in waves of the wave unit, earliest first. */
  waves: number[];
  /** The slowest connect, ms: a server slow to accept (a full accept queue in the kernel) shows here. */
  slowestConnectMs: number;
  /** Answers per process, where the answers name it (X-Worker, or --worker-header). */
  perWorker: Record<string, number>;
}

export interface Search {
  steps: Step[];
  /** D: a request's own time, the earliest answer of any burst (the earliest of each is D whatever P is). */
  delayMs: number;
  /** The wave unit the steps were read with: the first request's own time, alone. */
  waveUnitMs: number;
  /** The burst whose second wave revealed P, and P (its first wave; with several processes, the sum of theirs). */
  revealed: { step: Step; poolSize: number } | null;
  /** N = P in one wave and N = P + 1 in two, each with P in its first wave. */
  confirmed: boolean;
  /** Several processes (the answers named them): each one's own P, where it showed a second wave. */
  poolPerProcess: Record<string, number>;
  /** The budget ran out before the search was done. */
  outOfBudget: boolean;
  /** The largest N with every request served in one wave. */
  oneWaveUpTo: number;
  /**
   * Where the server refused: how many it takes at once (served and queued), the burst that first showed refusals,
   * and whether N = A was answered in full and N = A + 1 had exactly one refused.
   */
  refusals: { acceptedAtOnce: number; seenIn: Step; confirmed: boolean } | null;
  /** The size of the hung-up burst that asked whether the server refuses, if one was fired. */
  probed: number | null;
  elapsedMs: number;
}

/** The refusal probe is at most this many waves of the pool found: the work a server that does not cancel is left with. */
const PROBE_WAVES = 4;

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
const MOVED_OUT = 1.25;

/**
 * Room for a wave to take longer than the slowest one seen (what a burst may cost, for the budget), and for an answer
 * to count as sooner than another or as a request's own time alone.
 */
const ROOM = 1.5;

export async function searchForPool(options: FinderOptions): Promise<Search> {
  const began = performance.now();
  const left = () => options.budgetMs - (performance.now() - began);
  const target = new URL(options.url.replaceAll('{id}', '0'));
  const origin = target.origin;
  const pathOf = (id: number) => {
    const url = new URL(options.url.replaceAll('{id}', String(id)));
    return `${url.pathname}${url.search}`;
  };
  const steps: Step[] = [];
  let waveUnitMs = Number.POSITIVE_INFINITY;
  /** The longest a burst's first wave took: what the next burst's waves may take, for the budget. */
  let slowestWave = 0;

  /**
   * A burst of n within what is left of the budget: each request's deadline is the budget's end, or `hangUpMs` (a
   * burst that only asks whether the server refuses: what it accepted is let go unanswered).
   */
  const fire = async (requests: number, purpose: Purpose, hangUpMs?: number): Promise<Step> => {
    const burst = await fireBurst({
      baseUrl: origin,
      path: pathOf,
      requests,
      timeoutMs: Math.max(1, Math.min(left(), hangUpMs ?? Number.POSITIVE_INFINITY)),
      timedFrom: 'connect',
      request: options.request,
      insecure: options.insecure,
      workerHeader: options.workerHeader,
      signal: options.signal,
    });
    const step = readStep(requests, purpose, burst, waveUnitMs);
    steps.push(step);
    options.onStep?.(step);
    // An answer far sooner than the first request alone: that one waited behind work that was there before (a
    // previous run's leftovers, someone else's load) or a server warming up. The sooner one is the unit, and what was
    // read with the old one is read again (the first request as one that only waited for the server to settle).
    if (Number.isFinite(waveUnitMs) && step.firstMs !== null && step.firstMs * ROOM < waveUnitMs) {
      options.onNote?.(
        `an answer after ${(step.firstMs / 1000).toFixed(2)} s, the first request alone took ${(waveUnitMs / 1000).toFixed(2)} s: it waited behind earlier work; read again with the sooner one`,
      );
      waveUnitMs = step.firstMs;
      slowestWave = waveUnitMs;
      for (const s of steps)
        Object.assign(s, readStep(s.requests, s.purpose === 'first' ? 'settle' : s.purpose, s.burst, waveUnitMs));
    }
    return step;
  };

  const plan: number[] = [];
  for (let n = 2; n < options.maxRequests; n *= 2) plan.push(n);
  plan.push(options.maxRequests);
  options.onPlan?.(
    `one request, then bursts of N = ${plan.join(', ')} until a second wave appears, then N = P and N = P + 1 to ` +
      `confirm; at most ${options.maxRequests} requests at once, ${(options.budgetMs / 1000).toFixed(0)} s in all; each ` +
      'request on a new connection, timed from its connect',
  );

  // 1. One request: does it answer at all, and how long does one take alone (D)?
  const first = await fire(1, 'first');
  const answer = first.burst.requests[0]!;
  if (answer.status === null) {
    throw new UserError(`nothing answers at ${origin} (${answer.error}): check the URL, and that the server runs.`, 2);
  }
  if (answer.status < 200 || answer.status >= 300) {
    const said = answer.detail ? `: ${answer.detail.slice(0, 120)}` : '';
    throw new UserError(
      `the first request to ${options.url} was answered ${answer.status}${said}; find-pool needs an endpoint that answers 2xx (check the URL, --method, --header and --body).`,
      2,
    );
  }
  waveUnitMs = first.firstMs!;
  slowestWave = waveUnitMs;
  first.waves = [1];
  // Two more bursts at least are needed to say anything: one of two requests, one of four.
  if (3 * waveUnitMs > left()) {
    throw new UserError(
      `one request took ${(waveUnitMs / 1000).toFixed(1)} s: not even two bursts fit the budget of ${(options.budgetMs / 1000).toFixed(0)} s; give --budget-s ${Math.ceil((waveUnitMs * 12) / 1000)} or more.`,
      2,
    );
  }

  // 2. Double N until a second wave appears (or the server refuses, or N reaches the most allowed); then confirm P:
  //    N = P in one wave, N = P + 1 in two, each with P in its first (a burst already fired counts). Where the work
  //    shares the cores, an early burst's waves can be the scheduler's, not the threads': on to the next N instead.
  let revealed: Search['revealed'] = null;
  let confirmed = false;
  const poolPerProcess: Record<string, number> = {};
  let oneWaveUpTo = 1;
  let outOfBudget = false;
  const confirm = async (p: number): Promise<boolean | 'out of budget'> => {
    let holds = true;
    // CPU work that keeps P cores busy ends its first request at N / P · D once N requests share them: a burst of at
    // least 1.5 · P in clean waves rules it out. Where none was that large (P = 3 shows at N = 4), or it held only two
    // (a scheduler can run two requests on one core nearly one after the other, as a pool of one would), one more:
    // N = 2P + 1, in three waves.
    const strong = steps.some((s) => s.requests >= Math.max(3, 1.5 * p) && s.waves.length >= 2 && s.refused === 0);
    const checks: [number, Purpose, number][] = [
      [p, 'N = P', 1],
      [p + 1, 'N = P + 1', 2],
      ...(strong ? [] : [[2 * p + 1, 'N = 2P + 1', 3] as [number, Purpose, number]]),
    ];
    for (const [n, purpose, waves] of checks) {
      if (n > options.maxRequests) continue;
      const agrees = (step: Step) => step.refused === 0 && step.waves.length === waves && step.waves[0] === p;
      // A burst of this N fired already counts if it agrees; one that does not is fired once more (one burst on a
      // busy machine can be the scheduler's), and that second one decides.
      const earlier = steps.filter((s) => s.requests === n && s.refused === 0);
      if (earlier.some(agrees)) continue;
      if (earlier.length >= 2) {
        holds = false;
        continue;
      }
      if (waves * slowestWave * ROOM > left()) return 'out of budget';
      if (!agrees(await fire(n, purpose))) holds = false;
    }
    return holds;
  };
  const sharing = () => sharesCores({ steps, delayMs: waveUnitMs });
  for (const n of plan) {
    if (steps.some((s) => s.requests === n)) continue; // a confirming burst fired it already
    // The last burst held n / 2 in one wave, so this one is at most two waves of the slowest wave seen.
    if (2 * slowestWave * ROOM > left()) {
      outOfBudget = true;
      break;
    }
    const step = await fire(n, 'doubling');
    if (step.failedKinds.timeout) {
      outOfBudget = true;
      break;
    }
    slowestWave = Math.max(slowestWave, step.firstMs ?? slowestWave);
    // Several processes (the answers name them): each has a pool of its own, known once it showed a second wave;
    // how a burst is split among them is up to whoever deals the connections, so a whole burst's waves are not P.
    const processes = Object.keys(step.perWorker);
    if (processes.length > 1) {
      for (const worker of processes) {
        const own = wavesOf(
          step.burst.requests.filter((r) => r.worker === worker && isOk(r)),
          waveUnitMs,
        );
        if (own.length >= 2) poolPerProcess[worker] = own[0]!.size;
      }
      const known = Object.values(poolPerProcess);
      if (step.waves.length >= 2) revealed = { step, poolSize: known.reduce((a, b) => a + b, 0) };
      if (processes.every((worker) => worker in poolPerProcess)) break;
      if (step.ok === n) oneWaveUpTo = n;
      continue;
    }
    if (step.waves.length >= 2) {
      revealed = { step, poolSize: step.waves[0]! };
      const result = await confirm(revealed.poolSize);
      if (result === 'out of budget') outOfBudget = true;
      confirmed = result === true;
      // Not confirmed: a pool that grows under load, or several processes: a larger burst says more (the budget and
      // --max-requests still bound it). CPU work that shares the cores is found already: its steps did not hold.
      if (confirmed || outOfBudget || sharing()) break;
      continue;
    }
    if (step.ok === n) oneWaveUpTo = n;
    if (step.refused > 0) break; // more would only be refused too
  }

  // 3. A bounded queue refuses what it cannot hold at once: one burst, hung up before a first wave could end, shows
  //    whether the server refuses, and about how many it took. Gently: a server that does not cancel what a client
  //    gave up on still serves all it took, so the burst is at most PROBE_WAVES waves of the pool found (the most
  //    allowed where no pool showed). Then the edge, with bursts answered in full: N = A (none refused) and N = A + 1
  //    (one refused).
  let refusals: Search['refusals'] = null;
  const largest = Math.max(...steps.map((s) => s.requests));
  const probeSize = Math.min(options.maxRequests, revealed ? PROBE_WAVES * revealed.poolSize : options.maxRequests);
  let probed: number | null = null;
  if (!outOfBudget && !steps.some((s) => s.refused > 0) && largest < probeSize && waveUnitMs < left()) {
    const probe = await fire(probeSize, 'refusals?', waveUnitMs * 0.75);
    probed = probeSize;
    const taken = probe.requests - probe.refused;
    if (taken > 0 && revealed)
      options.onNote?.(
        `the server may go on serving the ${taken} requests it took and this burst gave up on (if it does not cancel abandoned work), for up to ${Math.ceil(taken / revealed.poolSize)} × D`,
      );
  }
  const refusing = steps.filter((s) => s.refused > 0).sort((a, b) => a.requests - b.requests)[0];
  // What the hung-up burst left running may still hold the pool (a server that does not cancel abandoned work keeps
  // at it; one that does may be restarting threads): one request at a time until one is answered in a request's own
  // time again, so the bursts after are not read behind leftovers.
  const settle = async () => {
    while (left() > 2 * slowestWave * ROOM) {
      const alone = await fire(1, 'settle');
      if (alone.firstMs !== null && alone.firstMs <= waveUnitMs * ROOM) return true;
    }
    return false;
  };
  if (refusing && (refusing.purpose !== 'refusals?' || (await settle()))) {
    refusals = { acceptedAtOnce: refusing.requests - refusing.refused, seenIn: refusing, confirmed: false };
    // Each edge burst waits for what it was accepted: at most ceil(A / P) waves (A waves where P is not known).
    for (let attempt = 0; attempt < 2 && !outOfBudget; attempt++) {
      const a: number = refusals.acceptedAtOnce;
      const waves = revealed ? Math.ceil((a + 1) / revealed.poolSize) : a + 1;
      if (a < 1 || 2 * waves * slowestWave * ROOM > left()) break;
      const below = await fire(a, 'N = A');
      const edge = await fire(a + 1, 'N = A + 1');
      if (below.refused === 0 && below.failed === 0 && edge.refused === 1 && edge.failed === 0) {
        refusals = { acceptedAtOnce: a, seenIn: refusing, confirmed: true };
        break;
      }
      // The hung-up burst counted a request still connecting as taken: what the full bursts took is nearer.
      const took = Math.min(below.requests - below.refused, edge.requests - edge.refused);
      if (took === a) break;
      refusals = { acceptedAtOnce: took, seenIn: refusing, confirmed: false };
    }
  }

  // D: the earliest answer of any burst, each timed from its connect; the first request alone was also the coldest.
  const delayMs = Math.min(...steps.flatMap((s) => (s.firstMs === null ? [] : [s.firstMs])));
  return {
    steps,
    delayMs,
    waveUnitMs,
    revealed,
    confirmed,
    poolPerProcess,
    outOfBudget,
    oneWaveUpTo,
    refusals,
    probed,
    elapsedMs: round3(performance.now() - began),
  };
}

/** What one burst's completions say, read with the wave unit (D where known; this burst's own first answer before). */
export function readStep(requests: number, purpose: Purpose, burst: BurstResult, waveUnitMs: number): Step {
  const answered = burst.requests.filter(isOk);
  const refusedKinds: Record<string, number> = {};
  const failedKinds: Record<string, number> = {};
  const perWorker: Record<string, number> = {};
  for (const r of burst.requests) {
    const kind = errorKindOf(r);
    if (kind === null) {
      if (r.worker !== undefined) perWorker[r.worker] = (perWorker[r.worker] ?? 0) + 1;
      continue;
    }
    const kinds = isRefusal(kind) ? refusedKinds : failedKinds;
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  const count = (kinds: Record<string, number>) => Object.values(kinds).reduce((a, b) => a + b, 0);
  const firstMs = answered.length > 0 ? round3(Math.min(...answered.map((r) => r.endMs - r.startMs))) : null;
  // The unit is a request's own time alone (D): a later wave cannot end sooner than half of it after the one before,
  // also where the work shares the cores and each wave takes longer. The first burst's unit is its own answer.
  const unit = Number.isFinite(waveUnitMs) ? waveUnitMs : (firstMs ?? 1);
  return {
    requests,
    purpose,
    burst,
    ok: answered.length,
    refused: count(refusedKinds),
    refusedKinds,
    failed: count(failedKinds),
    failedKinds,
    firstMs,
    waves: answered.length > 0 ? wavesOf(answered, Math.max(unit, 0.001)).map((w) => w.size) : [],
    slowestConnectMs: round3(Math.max(0, ...burst.requests.map((r) => r.connectMs ?? 0))),
    perWorker,
  };
}

/**
 * Whether the work shares the cores: some burst of two or more had its earliest answer well after a request's own
 * time. A request alone shares the cores with nothing: when one is late (the first of all is the coldest: 1.23 · D
 * once under half this machine's CPU, beside at most 1.11 · D for every later burst of a pool), the server was
 * warming up or stalled, not sharing. Nor the requests that only waited for the server to settle after a hang-up:
 * they wait behind what was left running.
 */
export function sharesCores(search: Pick<Search, 'steps' | 'delayMs'>): boolean {
  return search.steps.some(
    (s) => s.requests >= 2 && s.purpose !== 'settle' && s.firstMs !== null && s.firstMs > search.delayMs * MOVED_OUT,
  );
}
