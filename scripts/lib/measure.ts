/**
 * measureBurst: one measurement against a running server, the same way in every experiment.
 *
 *  1. Discarded warm-up bursts of the same size to the same route with a non-integer id: answered 422 at
 *     once, they warm the server's HTTP parser, router and JSON path (and the client's) without sleeping.
 *     V8 needs a few hundred calls before it optimises a path, so we send at least WARM_UP_REQUESTS: a cold
 *     server adds 20–30 ms to the first burst of 100, a warm one about 10.
 *  2. The server's stats window is reset, so its event-loop delay covers this burst only.
 *  3. The burst — optionally with probes: single requests to other routes fired every `probeEveryMs` while
 *     the burst runs, each recorded like a request of the burst, on the same clock.
 *  4. The server's stats for the burst. A server without /stats (FastAPI, or any other one fired at with
 *     --url) gives a measurement without them.
 */
import { fireBurst, type BurstOptions, type BurstResult, type RequestRecord } from './burst.ts';
import { predictTotalMs } from './model.ts';
import { toMeasurement, type Measurement } from './results.ts';
import type { TargetServer } from './server-process.ts';
import type { Progress } from './progress.ts';

const WARM_UP_REQUESTS = 1000;
/** Small bursts are warmed up in rounds of this many, so warming for N = 3 is not 334 rounds of 3. */
const WARM_UP_BURST = 200;

export interface BurstPlan {
  label: string;
  /** Route without the id, e.g. /sync-test */
  endpoint: string;
  requests: number;
  /** The server's delay, ms. */
  delayMs: number;
  /** Threads that may block at once for this route; null for the async route. Feeds the model. */
  poolSize: number | null;
  /** Override the model's figure (e.g. CPU work, where the cores bound the waves, not the pool). */
  predictedMs?: number | null;
  /** Default: four times the model's total plus 10 s. */
  timeoutMs?: number;
  warmUp?: boolean;
  progress?: Progress;
}

export interface Probe {
  label: string;
  /** Full path, e.g. /health or /asyncio-test/0 */
  path: string;
  /** The probed route's own delay (for its measurement record). */
  delayMs: number;
}

type Server = Pick<TargetServer, 'url' | 'resetStats' | 'stats'>;

export async function measureBurst(server: Server, plan: BurstPlan): Promise<Measurement> {
  return (await measureBurstWithProbes(server, plan, [], 0)).burst;
}

/** Several bursts one after another, each with the same probes; the measurements in order, probes after their burst. */
export async function measureBurstsWithProbes(server: Server, plans: BurstPlan[], probes: Probe[], probeEveryMs: number): Promise<Measurement[]> {
  const measurements: Measurement[] = [];
  for (const plan of plans) {
    const run = await measureBurstWithProbes(server, plan, probes, probeEveryMs);
    measurements.push(run.burst, ...run.probes);
  }
  return measurements;
}

/** The burst, and beside it each probe's requests as a measurement of its own (label `<burst>-probe-<probe>`). */
export async function measureBurstWithProbes(
  server: Server,
  plan: BurstPlan,
  probes: Probe[],
  probeEveryMs: number,
): Promise<{ burst: Measurement; probes: Measurement[] }> {
  const predictedMs = plan.predictedMs !== undefined ? plan.predictedMs : predictTotalMs(plan);
  const timeoutMs = plan.timeoutMs ?? (predictedMs ?? plan.delayMs) * 4 + 10_000;
  const burst = (path: BurstOptions['path'], onRequestDone?: BurstOptions['onRequestDone'], requests = plan.requests) =>
    fireBurst({ baseUrl: server.url, path, requests, timeoutMs, onRequestDone });

  const { progress } = plan;
  if (plan.warmUp !== false) {
    progress?.step(`${plan.label}: warming up`);
    const size = Math.max(plan.requests, WARM_UP_BURST);
    for (let round = 0; round < Math.ceil(WARM_UP_REQUESTS / size); round++) {
      await burst(() => `${plan.endpoint}/warm-up`, undefined, size);
    }
  }
  await server.resetStats?.();

  progress?.step(`${plan.label}: ${plan.requests} requests to ${plan.endpoint}`, plan.requests);
  const probing = probes.map((probe) => ({ probe, runs: [] as Promise<BurstResult>[] }));
  let firing = true;
  const result = burst(
    (id) => `${plan.endpoint}/${id}`,
    (done) => progress?.tick(done),
  );
  // Probes on a fixed schedule, whether or not the previous one was answered: a stall shows as a pile-up.
  const fireProbes = () => {
    for (const { probe, runs } of probing) {
      runs.push(fireBurst({ baseUrl: server.url, path: () => probe.path, requests: 1, timeoutMs }));
    }
  };
  const ticker = probes.length > 0 ? setInterval(() => firing && fireProbes(), probeEveryMs) : undefined;
  if (probes.length > 0) fireProbes();
  const measured = await result.finally(() => {
    firing = false;
    clearInterval(ticker);
  });
  const stats = await server.stats?.().catch(() => undefined);

  const main = toMeasurement(
    { label: plan.label, endpoint: plan.endpoint, poolSize: plan.poolSize, delayMs: plan.delayMs, predictedMs, server: stats },
    measured,
  );
  progress?.done(
    `${main.totalMs.toFixed(1)} ms${predictedMs === null ? '' : ` (model ${predictedMs} ms)`}, ${main.ok} ok, ${main.errors} errors`,
  );

  const probeMeasurements: Measurement[] = [];
  for (const { probe, runs } of probing) {
    // Each probe is one request; line them up on the burst's clock.
    const records: RequestRecord[] = (await Promise.all(runs)).map((run, i) => {
      const r = run.requests[0]!;
      const offset = run.startedAt - measured.startedAt;
      return { ...r, id: i + 1, startMs: r.startMs + offset, endMs: r.endMs + offset };
    });
    probeMeasurements.push(
      toMeasurement(
        { label: `${plan.label}-probe-${probe.label}`, endpoint: probe.path, poolSize: null, delayMs: probe.delayMs, predictedMs: null },
        { startedAt: measured.startedAt, connectMs: 0, totalMs: Math.max(0, ...records.map((r) => r.endMs)), requests: records },
      ),
    );
  }
  return { burst: main, probes: probeMeasurements };
}
