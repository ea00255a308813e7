/**
 * measureBurst: one measurement against a running server, the same way in every experiment.
 *
 *  1. Discarded warm-up bursts of the same size to the same route with a non-integer id: answered 422 at
 *     once, they warm the server's HTTP parser, router and JSON path (and the client's) without sleeping.
 *     V8 needs a few hundred calls before it optimises a path, so we send at least WARM_UP_REQUESTS: a cold
 *     server adds 20–30 ms to the first burst of 100, a warm one about 10.
 *     They always use the raw client: they warm the server, and the client being judged fires the same way.
 *  2. The server's stats window is reset, so its event-loop delay covers this burst only.
 *  3. The burst — optionally with probes: single requests to other routes fired every `probeEveryMs` while
 *     the burst runs, each recorded like a request of the burst, on the same clock.
 *  4. The server's stats for the burst. A server without /stats (FastAPI, or any other one fired at with
 *     --url) gives a measurement without them.
 *  Steps 2–4 run `repeat` times (--repeat K).
 *
 * With K repeats (./repeats.ts) the measurement's totalMs is the median of the K totals (with K = 1, the single run's), and
 * `repeats` keeps all K with min and max and each run's outcome. ok, errors and the latencies count every run,
 * so an error in any of them shows; the request records, server stats and probes are those of the run whose
 * total is nearest the median, so one burst's records are never mixed with another's.
 */
import { probeLabel } from '../results/labels.ts';
import { fireBurst } from '../client/burst.ts';
import type { BurstClient, BurstResult, RequestRecord } from '../client/burst-types.ts';
import { predictQueuedPool, predictTotalMs, type Refusals } from '../model/model.ts';
import { intakeMs } from './server-account.ts';
import { combineRuns, nearestToMedian, type MeasuredRun } from './repeats.ts';
import { runtimeFields, toMeasurement, type Measurement, type NoFields, type SharedMeasurementFields } from '../results/types.ts';
import type { TargetServer } from '../processes/start-server.ts';
import type { Progress } from '../view/progress.ts';

const WARM_UP_REQUESTS = 1000;
/** Enough to warm the request path a little in --quick runs, which check shapes, not the last milliseconds. */
export const QUICK_WARM_UP_REQUESTS = 200;
/** Small bursts are warmed up in rounds of this many, so warming for N = 3 is not 334 rounds of 3. */
const WARM_UP_BURST = 200;

export interface BurstPlanCore {
  label: string;
  /** Route without the id, e.g. /sync-test */
  endpoint: string;
  /** The path of the i-th request; default `${endpoint}/${i}`. A route without an id (e.g. /health) gives its own. */
  path?: (id: number) => string;
  requests: number;
  /** The server's delay, ms. */
  delayMs: number;
  /** Threads that may block at once for this route; null for the async route. Feeds the model. */
  poolSize: number | null;
  /**
   * The pool's queue limit, for a route of server.ts's tinypool pool (TargetServer.queueLimit): a burst beyond
   * P + queue is partly refused, and the model says how many (each refusal a 503, expected, not a failure).
   */
  queueLimit?: number | null;
  /** Override the model's figure (e.g. CPU work, where the cores bound the waves, not the pool). */
  predictedMs?: number | null;
  /** Default: four times the model's total plus 10 s. */
  timeoutMs?: number;
  warmUp?: boolean;
  /** Warm-up requests in all (default WARM_UP_REQUESTS); --quick runs, which only smoke-test, use fewer. */
  warmUpRequests?: number;
  progress?: Progress;
  /** Measured bursts, K ≥ 1 (default 1). */
  repeat?: number;
  /** Who fires the measured bursts (default raw). */
  client?: BurstClient;
  /** The experiment expects errors from this burst (an overload answered 503): they do not fail it. */
  errorsExpected?: boolean;
  /** Ends the burst at once (Ctrl-C, a server that died): its open requests are recorded as 'interrupted'. */
  signal?: AbortSignal;
  /**
   * Something to run beside each measured burst, from its first request written (`startedAt`, on the burst's clock)
   * to its end: e.g. letting FIFO readers go wave by wave. Returns its stop. The raw client only (it says when its
   * requests are written): give such a burst `client: 'raw'`.
   */
  beside?: (startedAt: number) => () => void;
}

/**
 * A burst to measure. `extra`: more fields for its measurement, the shared ones (e.g. { workers: 2 }) and X, those
 * the experiment declared as its own (required where X requires them).
 */
export type BurstPlan<X extends object = NoFields> = BurstPlanCore & BurstExtra<X>;
export type BurstExtra<X extends object> = NoFields extends X
  ? { extra?: SharedMeasurementFields & X }
  : { extra: SharedMeasurementFields & X };

export interface Probe {
  label: string;
  /** Full path, e.g. /health or /asyncio-test/0 */
  path: string;
  /** The probed route's own delay (for its measurement record). */
  delayMs: number;
}

type Server = Pick<TargetServer, 'url' | 'resetStats' | 'stats'>;

export async function measureBurst<X extends object = NoFields>(
  server: Server,
  plan: BurstPlan<NoInfer<X>>,
): Promise<Measurement<X>> {
  return (await measureBurstWithProbes<X>(server, plan, [], 0)).burst;
}

/** The burst, and beside it each probe's requests as a measurement of its own (label `<burst>-probe-<probe>`). */
export async function measureBurstWithProbes<X extends object = NoFields>(
  server: Server,
  plan: BurstPlan<NoInfer<X>>,
  probes: Probe[],
  probeEveryMs: number,
): Promise<{ burst: Measurement<X>; probes: Measurement[] }> {
  const queued =
    plan.queueLimit != null && plan.poolSize !== null ? { ...plan, poolSize: plan.poolSize, queueLimit: plan.queueLimit } : null;
  const predictedMs =
    plan.predictedMs !== undefined ? plan.predictedMs : queued ? predictQueuedPool(queued).totalMs : predictTotalMs(plan);
  const timeoutMs = plan.timeoutMs ?? (predictedMs ?? plan.delayMs) * 4 + 10_000;
  const client = plan.client ?? 'raw';
  const repeat = plan.repeat ?? 1;
  const { progress } = plan;

  if (plan.warmUp !== false) {
    progress?.step(`${plan.label}: warming up`);
    await warmUpServer(server.url, plan.endpoint, plan.requests, undefined, plan.warmUpRequests);
  }
  const runs: MeasuredRun[] = [];
  for (let k = 0; k < repeat; k++) {
    await server.resetStats?.();
    progress?.step(
      `${plan.label}: ${plan.requests} requests to ${plan.endpoint}${repeat > 1 ? ` (run ${k + 1} of ${repeat})` : ''}`,
      plan.requests,
    );
    if (repeat > 1 && k === repeat - 1)
      progress?.rename(`${plan.label}: ${plan.requests} requests to ${plan.endpoint}, ${repeat} runs`);
    const probing = probes.map((probe) => ({ probe, runs: [] as Promise<BurstResult>[] }));
    let firing = true;
    let stopBeside: (() => void) | undefined;
    const result = fireBurst({
      baseUrl: server.url,
      path: plan.path ?? ((id) => `${plan.endpoint}/${id}`),
      requests: plan.requests,
      timeoutMs,
      onRequestDone: (done) => progress?.tick(done),
      ...(plan.beside ? { onStarted: (_: unknown, startedAt: number) => (stopBeside = plan.beside!(startedAt)) } : {}),
      client,
      signal: plan.signal,
    });
    // Probes on a fixed schedule, whether or not the previous one was answered: a stall shows as a pile-up.
    const fireProbes = () => {
      for (const { probe, runs: fired } of probing) {
        fired.push(fireBurst({ baseUrl: server.url, path: () => probe.path, requests: 1, timeoutMs, signal: plan.signal }));
      }
    };
    const ticker = probes.length > 0 ? setInterval(() => firing && fireProbes(), probeEveryMs) : undefined;
    if (probes.length > 0) fireProbes();
    const measured = await result.finally(() => {
      firing = false;
      clearInterval(ticker);
      stopBeside?.();
    });
    const stats = await server.stats?.().catch(() => undefined);
    const probed = await probeMeasurements(plan.label, probing, measured.startedAt, runtimeFields(stats));
    runs.push({ result: measured, stats, probes: probed });
    if (plan.signal?.aborted) break;
  }

  const { label, endpoint, poolSize, delayMs } = plan;
  const main: Measurement<X> = {
    ...combineRuns({ label, endpoint, poolSize, delayMs, predictedMs, client }, runs, plan.extra as SharedMeasurementFields & X),
    ...(plan.errorsExpected ? { errorsExpected: true } : {}),
    // Beyond P + queue: the model's refusals, judged against the server's own intake of the burst.
    ...(queued && queued.requests > queued.poolSize + queued.queueLimit
      ? refusalFields(predictQueuedPool(queued, intakeMs(nearestToMedian(runs).stats)))
      : {}),
  };
  if (plan.signal?.aborted) progress?.done(`cut short after ${main.totalMs.toFixed(1)} ms`);
  else {
    // The step's label names the last run; the line that stays says what the figure is.
    const model = predictedMs === null ? '' : ` (model ${predictedMs.toFixed(1)} ms)`;
    const median = runs.length > 1 ? `median of ${runs.length}: ` : '';
    progress?.done(`${median}${main.totalMs.toFixed(1)} ms${model}, ${main.ok} ok, ${main.errors} errors`);
  }
  return { burst: main, probes: nearestToMedian(runs).probes ?? [] };
}

/** A model's refusals as the measurement records them: the count it expects (null: it cannot say), and why not. */
export function refusalFields(refusals: Refusals): {
  predictedMs: number | null;
  expectedRefused: number | null;
  refusalsUnpredictable?: string;
} {
  return {
    predictedMs: refusals.totalMs,
    expectedRefused: refusals.refused,
    ...(refusals.unpredictable ? { refusalsUnpredictable: refusals.unpredictable } : {}),
  };
}

/** Each probe was one request; line them up on the burst's clock as one measurement per probe. */
async function probeMeasurements(
  burstLabel: string,
  probing: { probe: Probe; runs: Promise<BurstResult>[] }[],
  burstStartedAt: number,
  runtime: SharedMeasurementFields,
): Promise<Measurement[]> {
  const measurements: Measurement[] = [];
  for (const { probe, runs } of probing) {
    const records: RequestRecord[] = (await Promise.all(runs)).map((run, i) => {
      const r = run.requests[0]!;
      const offset = run.startedAt - burstStartedAt;
      return { ...r, id: i + 1, startMs: r.startMs + offset, endMs: r.endMs + offset };
    });
    measurements.push(
      toMeasurement(
        {
          label: probeLabel(burstLabel, probe.label),
          endpoint: probe.path,
          poolSize: null,
          delayMs: probe.delayMs,
          predictedMs: null,
        },
        { startedAt: burstStartedAt, connectMs: 0, totalMs: Math.max(0, ...records.map((r) => r.endMs)), requests: records },
        { probe: { burst: burstLabel, name: probe.label }, ...runtime },
      ),
    );
  }
  return measurements;
}

/**
 * Step 1: bursts (at least WARM_UP_REQUESTS in all, WARM_UP_BURST or more at a time) to `${endpoint}/warm-up`,
 * answered at once; a route that answers at once anyway (/health) is warmed on its own path.
 */
export async function warmUpServer(
  baseUrl: string,
  endpoint: string,
  requests: number,
  path: (id: number) => string = () => `${endpoint}/warm-up`,
  total = WARM_UP_REQUESTS,
): Promise<void> {
  const size = Math.max(requests, WARM_UP_BURST);
  for (let round = 0; round < Math.ceil(total / size); round++) {
    await fireBurst({ baseUrl, path, requests: size, timeoutMs: 60_000 });
  }
}
