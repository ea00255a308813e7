/**
 * Finding the pool of any HTTP endpoint from the outside, with nothing but bursts of requests: how many it serves at
 * once (P), for how long each (D), and what kind of limit that is. The model ceil(N / P) · D, read backwards.
 *
 * The search is four named steps over one state (SearchState), each reading what the steps before it found:
 *   1. firstRequest: one request alone: does it answer at all, and how long does one take (D)?
 *   2. doubleUntilSecondWave: bursts of N = 2, 4, 8, … until a second wave appears (../model/waves.ts: no request of a
 *      later wave can end before the first one plus D), and P is the first wave; then confirmPool: N = P must end in
 *      one wave and N = P + 1 in two (and N = 2P + 1 in three where no burst held 1.5 · P yet: CPU work sharing P
 *      cores would show there). Doubling, not a binary search with full bursts: the burst that shows a second wave
 *      already says how many the first held.
 *   3. probeRefusals: one burst, hung up before a first wave could end, asks whether the server refuses;
 *   4. findRefusalEdge: where it did, N = A answered in full and N = A + 1 with one refused.
 * Every request is timed from its own connect (a server that is slow to accept shows), on a connection of its own,
 * with a deadline: the budget. What the bursts say is read by ./step.ts, what they mean by ./verdict.ts.
 *
 * The bursts come from a BurstSource: the network here (searchForPool), a record of bursts fired before or a model
 * in the tests, which re-judge the committed results and search simulated pools in their own process.
 */
import { fireBurst } from '../client/burst.ts';
import type { BurstResult, RequestShape } from '../client/burst-types.ts';
import { UserError } from '../core/outcomes.ts';
import { round3 } from '../../../server/numbers.ts';
import { readStep, shapedByIntake, wavesOfProcess, type Purpose, type Step } from './step.ts';
import { cpuSignals } from './signals.ts';

export type { Purpose, Step } from './step.ts';

/** What the search is asked: how far it may go, and whom it tells as it goes. */
export interface SearchOptions {
  /** The endpoint as given (for what it says); `{id}` is replaced by a different integer in every request. */
  url: string;
  /** The most requests in one burst. */
  maxRequests: number;
  /** The most time the whole finding may take, bursts included, ms. */
  budgetMs: number;
  /** Told the plan before the first burst, each burst as it ends, and what it notices on the way. */
  onPlan?: (plan: string) => void;
  onNote?: (note: string) => void;
  onStep?: (step: Step) => void;
}

/** The search against a real endpoint: what each request is, and how it reaches the server. */
export interface FinderOptions extends SearchOptions {
  request: RequestShape;
  /** https:// with a certificate nobody signed. */
  insecure: boolean;
  /** The response header that names the process that answered. */
  workerHeader: string;
  signal?: AbortSignal;
}

/** Where the bursts come from: the network, or (in a test) bursts recorded before, or a model of a server. */
export interface BurstSource {
  /** Fires `requests` at once; a request still unanswered after `timeoutMs` is ended as a timeout. */
  fire(requests: number, timeoutMs: number): Promise<BurstResult>;
  /** The clock the budget is kept with, ms. */
  now(): number;
}

export interface Search {
  steps: Step[];
  /** The most requests one burst could have (--max-requests): P up to one less can be found (N = P + 1 must fit). */
  maxRequests: number;
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
 * The refusal probe hangs up this far into a request's own time: before any first wave can end, so what it sees is
 * only what the server took or refused. The earliest answer of any burst came at 0.925 (hashes on shared cores) to
 * 0.999 of the first request's own time in every committed run (find-pool.json, the outside servers): three
 * quarters is before all of them.
 */
const HANG_UP_AT = 0.75;

/**
 * Room for a wave to take longer than the slowest one seen (what a burst may cost, for the budget), and for an answer
 * to count as sooner than another or as a request's own time alone. The earliest answer of a burst of two or more
 * came within 1.11 · D in every pool met (../find-pool/signals.ts): half a D more is room, not a guess at the limit.
 */
const ROOM = 1.5;

/**
 * After the first request, room for at least this many of its times: the bursts of 2 and 4 take one each where
 * nothing limits them, and a pool of 2 or 3 shows its second wave in one more.
 */
const FIRST_BURSTS_IN_D = 3;

/**
 * The budget to suggest where not even the first bursts fit, in request times: a pool of 40 behind D = 3 s took
 * 11.8 · D of bursts (results/find-pool-server-40), the self-check's pools 6.8 to 17 · D.
 */
const SUGGESTED_BUDGET_IN_D = 12;

/**
 * CPU work that keeps P cores busy ends its first request at N / P · D once N requests share them: a burst of at least
 * this many times P, in clean waves, rules it out (its first answer would come at 1.5 · D, beyond MOVED_OUT). Where
 * none was that large (P = 3 shows at N = 4), or it held only two, the search fires N = 2P + 1 as well.
 */
const RULES_OUT_CPU = 1.5;

/** Everything the steps read and write: the bursts so far, what they showed, and the budget's clock. */
interface SearchState {
  readonly options: SearchOptions;
  readonly source: BurstSource;
  readonly began: number;
  readonly steps: Step[];
  /** A request's own time alone: the unit waves are read with (the sooner one where a later answer came far sooner). */
  waveUnitMs: number;
  /** The longest a burst's first wave took: what the next burst's waves may take, for the budget. */
  slowestWaveMs: number;
  revealed: Search['revealed'];
  confirmed: boolean;
  readonly poolPerProcess: Record<string, number>;
  oneWaveUpTo: number;
  outOfBudget: boolean;
  probed: number | null;
  refusals: Search['refusals'];
  /** The N of the bursts fired once more because the server's intake had shaped them. */
  readonly refiredForIntake: Set<number>;
}

/** The search against the endpoint at options.url, over the network. */
export async function searchForPool(options: FinderOptions): Promise<Search> {
  const origin = new URL(options.url.replaceAll('{id}', '0')).origin;
  const pathOf = (id: number) => {
    const url = new URL(options.url.replaceAll('{id}', String(id)));
    return `${url.pathname}${url.search}`;
  };
  return runSearch(options, {
    now: () => performance.now(),
    fire: (requests, timeoutMs) =>
      fireBurst({
        baseUrl: origin,
        path: pathOf,
        requests,
        timeoutMs,
        timedFrom: 'connect',
        request: options.request,
        insecure: options.insecure,
        workerHeader: options.workerHeader,
        signal: options.signal,
      }),
  });
}

/** The search with bursts from `source`: the four steps, in order, over one state. */
export async function runSearch(options: SearchOptions, source: BurstSource): Promise<Search> {
  const state: SearchState = {
    options,
    source,
    began: source.now(),
    steps: [],
    waveUnitMs: Number.POSITIVE_INFINITY,
    slowestWaveMs: 0,
    revealed: null,
    confirmed: false,
    poolPerProcess: {},
    oneWaveUpTo: 1,
    outOfBudget: false,
    probed: null,
    refusals: null,
    refiredForIntake: new Set(),
  };
  options.onPlan?.(planText(options));
  await firstRequest(state);
  await doubleUntilSecondWave(state);
  await probeRefusals(state);
  await findRefusalEdge(state);
  return searchOf(state);
}

/** Bursts of 2, 4, 8, … up to the most allowed (which is the last, whatever it is). */
export function doublingPlan(maxRequests: number): number[] {
  const plan: number[] = [];
  for (let n = 2; n < maxRequests; n *= 2) plan.push(n);
  plan.push(maxRequests);
  return plan;
}

function planText(options: SearchOptions): string {
  const most = options.maxRequests;
  return (
    `one request, then bursts of N = ${doublingPlan(most).join(', ')} until a second wave appears, then N = P and N = P + 1 to ` +
    `confirm; at most ${most} requests at once (so the largest P it can find is ${most - 1}: --max-requests raises it), ` +
    `${(options.budgetMs / 1000).toFixed(0)} s in all; each request on a new connection, timed from its connect`
  );
}

/** What is left of the budget, ms. */
function left(state: SearchState): number {
  return state.options.budgetMs - (state.source.now() - state.began);
}

/**
 * A burst of n within what is left of the budget: each request's deadline is the budget's end, or `hangUpMs` (a
 * burst that only asks whether the server refuses: what it accepted is let go unanswered).
 */
async function fire(state: SearchState, requests: number, purpose: Purpose, hangUpMs?: number): Promise<Step> {
  const timeoutMs = Math.max(1, Math.min(left(state), hangUpMs ?? Number.POSITIVE_INFINITY));
  const step = readStep(requests, purpose, await state.source.fire(requests, timeoutMs), state.waveUnitMs);
  state.steps.push(step);
  state.options.onStep?.(step);
  rereadIfSooner(state, step);
  return step;
}

/**
 * An answer far sooner than the first request alone: that one waited behind work that was there before (a previous
 * run's leftovers, someone else's load) or a server warming up. The sooner one is the unit, and what was read with the
 * old one is read again (the first request as one that only waited for the server to settle).
 */
function rereadIfSooner(state: SearchState, step: Step): void {
  if (!Number.isFinite(state.waveUnitMs) || step.firstMs === null || step.firstMs * ROOM >= state.waveUnitMs) return;
  state.options.onNote?.(
    `an answer after ${(step.firstMs / 1000).toFixed(2)} s, the first request alone took ${(state.waveUnitMs / 1000).toFixed(2)} s: it waited behind earlier work; read again with the sooner one`,
  );
  state.waveUnitMs = step.firstMs;
  state.slowestWaveMs = step.firstMs;
  for (const s of state.steps)
    Object.assign(s, readStep(s.requests, s.purpose === 'first' ? 'settle' : s.purpose, s.burst, state.waveUnitMs));
}

/** 1. One request: does it answer at all (else one sentence), and how long does one take alone (D)? */
async function firstRequest(state: SearchState): Promise<void> {
  const first = await fire(state, 1, 'first');
  const answer = first.burst.requests[0]!;
  const { url, budgetMs } = state.options;
  if (answer.status === null) {
    throw new UserError(
      `nothing answers at ${new URL(url.replaceAll('{id}', '0')).origin} (${answer.error}): check the URL, and that the server runs.`,
      2,
    );
  }
  if (answer.status < 200 || answer.status >= 300) {
    const said = answer.detail ? `: ${answer.detail.slice(0, 120)}` : '';
    throw new UserError(
      `the first request to ${url} was answered ${answer.status}${said}; find-pool needs an endpoint that answers 2xx (check the URL, --method, --header and --body).`,
      2,
    );
  }
  state.waveUnitMs = first.firstMs!;
  state.slowestWaveMs = state.waveUnitMs;
  first.waves = [1];
  if (FIRST_BURSTS_IN_D * state.waveUnitMs > left(state)) {
    throw new UserError(
      `one request took ${(state.waveUnitMs / 1000).toFixed(1)} s: not even two bursts fit the budget of ${(budgetMs / 1000).toFixed(0)} s; give --budget-s ${Math.ceil((state.waveUnitMs * SUGGESTED_BUDGET_IN_D) / 1000)} or more.`,
      2,
    );
  }
}

/**
 * 2. Double N until a second wave appears (or the server refuses, or N reaches the most allowed); then confirm P.
 * Where the work shares the cores, an early burst's waves can be the scheduler's, not the threads': on to the next N.
 */
async function doubleUntilSecondWave(state: SearchState): Promise<void> {
  const plan = doublingPlan(state.options.maxRequests);
  let refiring: number | null = null;
  for (let i = 0; i < plan.length; i++) {
    const n = plan[i]!;
    const again = refiring === n;
    refiring = null;
    if (!again && state.steps.some((s) => s.requests === n)) continue; // a confirming burst fired it already
    // The last burst held n / 2 in one wave, so this one is at most two waves of the slowest wave seen.
    if (2 * state.slowestWaveMs * ROOM > left(state)) {
      state.outOfBudget = true;
      return;
    }
    const step = await fire(state, n, 'doubling');
    if (step.failedKinds.timeout) {
      state.outOfBudget = true;
      return;
    }
    state.slowestWaveMs = Math.max(state.slowestWaveMs, step.firstMs ?? state.slowestWaveMs);
    const next = Object.keys(step.perWorker).length > 1 ? readProcesses(state, step) : await readOneProcess(state, step, again);
    if (next === 'done') return;
    if (next === 'again') {
      refiring = n;
      i--;
    }
  }
}

/**
 * A burst several processes answered (the answers name them): each has a pool of its own, known once it showed a
 * second wave; how a burst is split among them is up to whoever deals the connections, so a whole burst's waves
 * are not P. Done once every process has shown its own.
 */
function readProcesses(state: SearchState, step: Step): 'done' | 'go on' {
  const processes = Object.keys(step.perWorker);
  for (const worker of processes) {
    const own = wavesOfProcess(step, worker, state.waveUnitMs);
    if (own.length >= 2) state.poolPerProcess[worker] = own[0]!;
  }
  if (step.waves.length >= 2) {
    state.revealed = { step, poolSize: Object.values(state.poolPerProcess).reduce((a, b) => a + b, 0) };
  }
  if (processes.every((worker) => worker in state.poolPerProcess)) return 'done';
  if (step.ok === step.requests) state.oneWaveUpTo = step.requests;
  return 'go on';
}

/**
 * A burst one process answered: a second wave reveals P, to be confirmed. Not confirmed: a pool that grows under load,
 * or several processes: a larger burst says more (the budget and --max-requests still bound it). CPU work that shares
 * the cores is found already: its steps did not hold. A revealing burst the server's intake shaped (it took some
 * requests late, a cold server's acceptor, a full backlog) is fired once more before going on: its first wave may be
 * the intake's, not the pool's. One wave: go on, unless the server refused (more would only be refused too).
 */
async function readOneProcess(state: SearchState, step: Step, refired: boolean): Promise<'done' | 'go on' | 'again'> {
  if (step.poolWaves.length >= 2) {
    state.revealed = { step, poolSize: step.poolWaves[0]! };
    const result = await confirmPool(state, state.revealed.poolSize);
    if (result === 'out of budget') state.outOfBudget = true;
    state.confirmed = result === 'holds';
    const sharing = cpuSignals({ steps: state.steps, delayMs: state.waveUnitMs, revealed: state.revealed }).sharesCores;
    if (state.confirmed || state.outOfBudget || sharing) return 'done';
    if (!refired && shapedByIntake(step, state.waveUnitMs)) {
      state.options.onNote?.(`the server's intake shaped the burst of ${step.requests}: fired once more`);
      state.refiredForIntake.add(step.requests);
      return 'again';
    }
    return 'go on';
  }
  // One wave from each request's own start; where some were taken late, the most served at once was the first wave's.
  if (step.late > 0 && !refired) {
    state.options.onNote?.(`the server's intake took ${step.late} of the burst of ${step.requests} late: fired once more`);
    state.refiredForIntake.add(step.requests);
    return 'again';
  }
  if (step.ok === step.requests) state.oneWaveUpTo = Math.max(state.oneWaveUpTo, step.requests - step.late);
  return step.refused > 0 ? 'done' : 'go on';
}

/** One burst that confirms P: its N, why it is fired, and how many waves it must end in (P in the first). */
interface Check {
  requests: number;
  purpose: Purpose;
  waves: number;
}

/** The bursts that confirm P: N = P in one wave, N = P + 1 in two, and N = 2P + 1 in three where CPU is not ruled out. */
export function checksFor(p: number, steps: readonly Step[]): Check[] {
  const ruledOutCpu = steps.some(
    (s) => s.requests >= Math.max(3, RULES_OUT_CPU * p) && s.poolWaves.length >= 2 && s.refused === 0,
  );
  return [
    { requests: p, purpose: 'N = P', waves: 1 },
    { requests: p + 1, purpose: 'N = P + 1', waves: 2 },
    ...(ruledOutCpu ? [] : [{ requests: 2 * p + 1, purpose: 'N = 2P + 1' as const, waves: 3 }]),
  ];
}

/**
 * Confirms P: each check's burst must end in its waves with P in the first, read from each request's own start of
 * service (N = P is one wave where every request was served as it was taken, some taken late). A burst of that N fired
 * already counts if it agrees; one that does not is fired once more, since one burst on a busy machine can be the
 * scheduler's, and that second one decides. So is a check's own burst where the server's intake spoiled it. A check
 * beyond --max-requests is left out.
 */
async function confirmPool(state: SearchState, p: number): Promise<'holds' | 'does not hold' | 'out of budget'> {
  let holds = true;
  for (const check of checksFor(p, state.steps)) {
    if (check.requests > state.options.maxRequests) continue;
    const agrees = (step: Step) =>
      step.refused === 0 &&
      step.poolWaves.length === check.waves &&
      step.poolWaves[0]! + (check.waves === 1 ? step.late : 0) === p;
    const earlier = state.steps.filter((s) => s.requests === check.requests && s.refused === 0);
    if (earlier.some(agrees)) continue;
    if (earlier.length >= 2) {
      holds = false;
      continue;
    }
    const budgetFor = (bursts: number) => bursts * check.waves * state.slowestWaveMs * ROOM <= left(state);
    if (!budgetFor(1)) return 'out of budget';
    let step = await fire(state, check.requests, check.purpose);
    if (!agrees(step) && shapedByIntake(step, state.waveUnitMs) && budgetFor(1)) {
      state.options.onNote?.(`the server's intake spoiled N = ${check.requests}: fired once more`);
      step = await fire(state, check.requests, check.purpose);
    }
    if (!agrees(step)) holds = false;
  }
  return holds ? 'holds' : 'does not hold';
}

/**
 * 3. A bounded queue refuses what it cannot hold at once: one burst, hung up before a first wave could end, shows
 * whether the server refuses, and about how many it took. Gently: a server that does not cancel what a client gave up
 * on still serves all it took, so the burst is at most PROBE_WAVES waves of the pool found (the most allowed where no
 * pool showed). Not fired where a burst was refused already, or was as large.
 */
async function probeRefusals(state: SearchState): Promise<void> {
  const { maxRequests } = state.options;
  const largest = Math.max(...state.steps.map((s) => s.requests));
  const probeSize = Math.min(maxRequests, state.revealed ? PROBE_WAVES * state.revealed.poolSize : maxRequests);
  const refusedAlready = state.steps.some((s) => s.refused > 0);
  if (state.outOfBudget || refusedAlready || largest >= probeSize || state.waveUnitMs >= left(state)) return;
  const probe = await fire(state, probeSize, 'refusals?', state.waveUnitMs * HANG_UP_AT);
  state.probed = probeSize;
  const taken = probe.requests - probe.refused;
  if (taken > 0 && state.revealed)
    state.options.onNote?.(
      `the server may go on serving the ${taken} requests it took and this burst gave up on (if it does not cancel abandoned work), for up to ${Math.ceil(taken / state.revealed.poolSize)} × D`,
    );
}

/**
 * What the hung-up burst left running may still hold the pool (a server that does not cancel abandoned work keeps at
 * it; one that does may be restarting threads): one request at a time until one is answered in a request's own time
 * again, so the bursts after are not read behind leftovers.
 */
async function settle(state: SearchState): Promise<boolean> {
  while (left(state) > 2 * state.slowestWaveMs * ROOM) {
    const alone = await fire(state, 1, 'settle');
    if (alone.firstMs !== null && alone.firstMs <= state.waveUnitMs * ROOM) return true;
  }
  return false;
}

/**
 * 4. Where the server refused: the edge, with bursts answered in full: N = A (none refused) and N = A + 1 (one
 * refused). Each edge burst waits for what it was accepted: at most ceil(A / P) waves (A waves where P is not known).
 */
async function findRefusalEdge(state: SearchState): Promise<void> {
  const refusing = state.steps.filter((s) => s.refused > 0).sort((a, b) => a.requests - b.requests)[0];
  if (!refusing) return;
  if (refusing.purpose === 'refusals?' && !(await settle(state))) return;
  state.refusals = { acceptedAtOnce: refusing.requests - refusing.refused, seenIn: refusing, confirmed: false };
  for (let attempt = 0; attempt < 2 && !state.outOfBudget; attempt++) {
    const a: number = state.refusals.acceptedAtOnce;
    const waves = state.revealed ? Math.ceil((a + 1) / state.revealed.poolSize) : a + 1;
    if (a < 1 || 2 * waves * state.slowestWaveMs * ROOM > left(state)) return;
    const below = await fire(state, a, 'N = A');
    const edge = await fire(state, a + 1, 'N = A + 1');
    if (below.refused === 0 && below.failed === 0 && edge.refused === 1 && edge.failed === 0) {
      state.refusals = { acceptedAtOnce: a, seenIn: refusing, confirmed: true };
      return;
    }
    // The hung-up burst counted a request still connecting as taken: what the full bursts took is nearer.
    const took = Math.min(below.requests - below.refused, edge.requests - edge.refused);
    if (took === a) return;
    state.refusals = { acceptedAtOnce: took, seenIn: refusing, confirmed: false };
  }
}

/** The search's findings. D: the earliest answer of any burst, each timed from its connect (the first was the coldest). */
function searchOf(state: SearchState): Search {
  const { steps } = state;
  return {
    steps,
    maxRequests: state.options.maxRequests,
    delayMs: Math.min(...steps.flatMap((s) => (s.firstMs === null ? [] : [s.firstMs]))),
    waveUnitMs: state.waveUnitMs,
    revealed: state.revealed,
    confirmed: state.confirmed,
    poolPerProcess: state.poolPerProcess,
    outOfBudget: state.outOfBudget,
    oneWaveUpTo: state.oneWaveUpTo,
    refusals: state.refusals,
    probed: state.probed,
    elapsedMs: round3(state.source.now() - state.began),
  };
}
