/**
 * measureBurst: one measurement against a running server, the same way in every experiment.
 *
 *  1. Discarded warm-up bursts of the same size to the same route with a non-integer id: answered 422 at
 *     once, they warm the server's HTTP parser, router and JSON path (and the client's) without sleeping.
 *     V8 needs a few hundred calls before it optimises a path, so we send at least WARM_UP_REQUESTS: a cold
 *     server adds 20–30 ms to the first burst of 100, a warm one about 10.
 *     They always use the raw client: they warm the server, and the client being judged fires the same way.
 *  2. The server's stats window is reset, so its event-loop delay covers this burst only.
 *  3. The burst, then the server's stats for it; steps 2–3 `repeat` times (--repeat K).
 *
 * With K repeats the measurement's totalMs is the median of the K totals (with K = 1, the single run's), and
 * `repeats` keeps all K with min and max. Its requests, latencies and server stats are those of the run
 * whose total is nearest the median, so one burst's records are never mixed with another's.
 */
import { fireBurst, type BurstClient, type BurstOptions, type BurstResult } from './burst.ts';
import { predictTotalMs } from './model.ts';
import { toMeasurement, type Measurement, type MeasurementContext } from './results.ts';
import { median, round3 } from './stats.ts';
import type { ServerStats } from '../../server.ts';
import type { RunningServer } from './server-process.ts';

const WARM_UP_REQUESTS = 1000;

export interface BurstPlan {
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
  /** Default: four times the model's total plus 10 s. */
  timeoutMs?: number;
  warmUp?: boolean;
  /** Measured bursts, K ≥ 1 (default 1). */
  repeat?: number;
  /** Who fires the measured bursts (default raw). */
  client?: BurstClient;
  onRequestDone?: BurstOptions['onRequestDone'];
}

export async function measureBurst(server: Pick<RunningServer, 'url' | 'resetStats' | 'stats'>, plan: BurstPlan): Promise<Measurement> {
  const predictedMs = predictTotalMs({ requests: plan.requests, poolSize: plan.poolSize, delayMs: plan.delayMs });
  const client = plan.client ?? 'raw';
  if (plan.warmUp !== false) await warmUpServer(server.url, plan.endpoint, plan.requests);
  const runs: MeasuredRun[] = [];
  for (let k = 0; k < (plan.repeat ?? 1); k++) {
    await server.resetStats();
    const result = await fireBurst({
      baseUrl: server.url,
      path: plan.path ?? ((id) => `${plan.endpoint}/${id}`),
      requests: plan.requests,
      timeoutMs: plan.timeoutMs ?? predictedMs * 4 + 10_000,
      onRequestDone: plan.onRequestDone,
      client,
    });
    runs.push({ result, stats: await server.stats() });
  }
  const { label, endpoint, poolSize, delayMs } = plan;
  return combineRuns({ label, endpoint, poolSize, delayMs, predictedMs, client }, runs);
}

/**
 * Step 1: bursts of `requests` (at least WARM_UP_REQUESTS in all) to `${endpoint}/warm-up`, answered at
 * once; a route that answers at once anyway (/health) is warmed on its own path.
 */
export async function warmUpServer(
  baseUrl: string,
  endpoint: string,
  requests: number,
  path: (id: number) => string = () => `${endpoint}/warm-up`,
): Promise<void> {
  for (let round = 0; round < Math.ceil(WARM_UP_REQUESTS / requests); round++) {
    await fireBurst({ baseUrl, path, requests, timeoutMs: 60_000 });
  }
}

export interface MeasuredRun {
  result: BurstResult;
  /** The server's stats for this burst alone. */
  stats?: ServerStats;
}

/** K bursts of the same plan as one measurement: the median total, all K totals, the median run's records. */
export function combineRuns(context: Omit<MeasurementContext, 'server'>, runs: MeasuredRun[]): Measurement {
  const totalsMs = runs.map((run) => round3(run.result.totalMs));
  const middle = median(totalsMs);
  const nearest = runs.reduce((best, run) =>
    Math.abs(run.result.totalMs - middle) < Math.abs(best.result.totalMs - middle) ? run : best,
  );
  const { requests, ...summary } = toMeasurement({ ...context, server: nearest.stats }, nearest.result);
  const wholeSeconds = runs.flatMap((run) => (run.result.wholeSeconds === undefined ? [] : [run.result.wholeSeconds]));
  return {
    ...summary,
    totalMs: round3(middle), // the median of the K totals; the single run's when K = 1
    repeats: {
      totalsMs,
      median: round3(middle),
      min: Math.min(...totalsMs),
      max: Math.max(...totalsMs),
      ...(wholeSeconds.length > 0 ? { wholeSeconds } : {}),
    },
    requests, // last: the one long list in the file
  };
}
