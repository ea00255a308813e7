/**
 * measureBurst: one measurement against a running server, the same way in every experiment.
 *
 *  1. Discarded warm-up bursts of the same size to the same route with a non-integer id: answered 422 at
 *     once, they warm the server's HTTP parser, router and JSON path (and the client's) without sleeping.
 *     V8 needs a few hundred calls before it optimises a path, so we send at least WARM_UP_REQUESTS: a cold
 *     server adds 20–30 ms to the first burst of 100, a warm one about 10.
 *  2. The server's stats window is reset, so its event-loop delay covers this burst only.
 *  3. The burst, then the server's stats for it. A server without /stats (FastAPI, or any other one
 *     fired at with --url) gives a measurement without them.
 */
import { fireBurst, type BurstOptions } from './burst.ts';
import { predictTotalMs } from './model.ts';
import { toMeasurement, type Measurement } from './results.ts';
import type { TargetServer } from './server-process.ts';

const WARM_UP_REQUESTS = 1000;

export interface BurstPlan {
  label: string;
  /** Route without the id, e.g. /sync-test */
  endpoint: string;
  requests: number;
  /** The server's delay, ms. */
  delayMs: number;
  /** Threads that may block at once for this route; null for the async route. Feeds the model. */
  poolSize: number | null;
  /** Default: four times the model's total plus 10 s. */
  timeoutMs?: number;
  warmUp?: boolean;
  onRequestDone?: BurstOptions['onRequestDone'];
}

export async function measureBurst(server: Pick<TargetServer, 'url' | 'resetStats' | 'stats'>, plan: BurstPlan): Promise<Measurement> {
  const predictedMs = predictTotalMs({ requests: plan.requests, poolSize: plan.poolSize, delayMs: plan.delayMs });
  const burst = (path: (id: number) => string, onRequestDone?: BurstOptions['onRequestDone']) =>
    fireBurst({
      baseUrl: server.url,
      path,
      requests: plan.requests,
      timeoutMs: plan.timeoutMs ?? predictedMs * 4 + 10_000,
      onRequestDone,
    });

  if (plan.warmUp !== false) {
    for (let round = 0; round < Math.ceil(WARM_UP_REQUESTS / plan.requests); round++) {
      await burst(() => `${plan.endpoint}/warm-up`);
    }
  }
  await server.resetStats?.();
  const result = await burst((id) => `${plan.endpoint}/${id}`, plan.onRequestDone);
  const stats = await server.stats?.();
  return toMeasurement(
    { label: plan.label, endpoint: plan.endpoint, poolSize: plan.poolSize, delayMs: plan.delayMs, predictedMs, server: stats },
    result,
  );
}
