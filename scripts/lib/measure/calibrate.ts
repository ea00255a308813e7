/**
 * How much CPU work a request holds, and how fast the server gets it done:
 *  - `calibrate`: how many iterations of some work take a given time here, so an experiment can ask for "about
 *    200 ms of one core" instead of a number that fits one CPU only. It sets the work; it is not the model's w.
 *  - `measureServedWorkMs`: how long the server under test takes to serve one such request on its own, warm,
 *    over several. This is w for the model: the work timed where it runs, in the same run, not in the script's
 *    own process (another process, another JIT, a CPU quota shared differently).
 *  - `measureSustainedWorkMs`: w as a burst on fewer threads than cores spends it, each thread taking one request
 *    after another with no pause: the spacing of their ends. A core here did the same hash in 130 ms in one second
 *    and 190 ms a minute later (its own CPU time, from /proc): single requests timed a moment apart are not always
 *    what eight in a row get.
 *  - `measureCores`: how fast each core does that work while all are busy: the cores as the server gets them (a CPU
 *    quota or a busy neighbour gives less than availableParallelism() says), never more than that quota allows.
 */
import { fireBurst } from '../client/burst.ts';
import { cpuBudget } from '../core/cpu-budget.ts';
import { median } from '../model/percentiles.ts';
import { round3 } from '../../../server/numbers.ts';

/** Doubles the iterations until one call takes a tenth of the target, then scales, then checks (medians of 3). */
export function calibrate(
  targetMs: number,
  work: (iterations: number) => unknown,
  start = 10_000,
): { iterations: number; ms: number } {
  const time = (iterations: number) => {
    const began = performance.now();
    work(iterations);
    return performance.now() - began;
  };
  let iterations = start;
  while (time(iterations) < targetMs / 10) iterations *= 2;
  iterations = Math.round((iterations * targetMs) / median([time(iterations), time(iterations), time(iterations)]));
  return { iterations, ms: round3(median([time(iterations), time(iterations), time(iterations)])) };
}

export interface ServedWork {
  /** w: the mean of the single requests' latencies without the fastest and the slowest, ms. */
  ms: number;
  /** Every single request's latency, ms. */
  samplesMs: number[];
}

/**
 * One request at a time to `path` (warm: one more first, not counted), `count` times. A burst of such requests takes
 * a sum of their works, so the model wants their mean, not their median (on a machine whose cores differ, a request
 * takes one time or another as it lands, and the burst takes both); the fastest and the slowest are left out, so a
 * stray pause does not move it. A request that is not answered 200 is not a measurement of the work: that ends here.
 */
export async function measureServedWorkMs(baseUrl: string, path: (id: number) => string, count = 7): Promise<ServedWork> {
  const samplesMs: number[] = [];
  for (let i = 0; i <= count; i++) {
    const burst = await fireBurst({ baseUrl, path, requests: 1, timeoutMs: 120_000 });
    const [request] = burst.requests;
    if (request?.status !== 200)
      throw new Error(`${path(1)} answered ${request?.status ?? request?.error} while its work was being timed`);
    if (i > 0) samplesMs.push(round3(request.endMs - request.startMs));
  }
  const middle = [...samplesMs].sort((a, b) => a - b).slice(1, -1);
  return { ms: round3(middle.reduce((sum, ms) => sum + ms, 0) / middle.length), samplesMs };
}

/**
 * w as a burst spends it on `threads` threads that each have a core: `threads · (rounds + 1)` requests at once to a
 * route whose pool has exactly `threads` threads, so each thread serves rounds + 1 of them back to back; w is how far
 * apart its waves end, (the mean of the last wave's ends − the mean of the first's) / rounds. The first wave's own
 * time is left out: it holds the requests' arrival, not only their work.
 */
export async function measureSustainedWorkMs(
  baseUrl: string,
  path: (id: number) => string,
  threads: number,
  rounds = 3,
): Promise<{ ms: number; endsMs: number[] }> {
  const requests = threads * (rounds + 1);
  const burst = await fireBurst({ baseUrl, path, requests, timeoutMs: 120_000 });
  const failed = burst.requests.find((r) => r.status !== 200);
  if (failed) throw new Error(`${path(1)} answered ${failed.status ?? failed.error} while its sustained work was being timed`);
  const endsMs = burst.requests.map((r) => round3(r.endMs)).sort((a, b) => a - b);
  const mean = (ends: number[]) => ends.reduce((sum, ms) => sum + ms, 0) / ends.length;
  return { ms: round3((mean(endsMs.slice(-threads)) - mean(endsMs.slice(0, threads))) / rounds), endsMs };
}

export interface Cores {
  /** Each core's time for one request while every core is busy, fastest first, ms (medians over the runs). */
  coreMs: number[];
  /** How many requests the timing sent (its runs and the one before them that warms the threads). */
  requests?: number;
  /** Σ w / coreMs: how many requests' worth of work the cores do side by side (C where every core is free and equal). */
  speedUp: number;
  /** What the cores were timed at where that was more than the CPU budget allows (coreMs above is held to it). */
  measured?: { coreMs: number[]; speedUp: number; budget: number };
}

/** "2 at once took 331, 400 ms, 1.08 side by side; held to the CPU budget, 1 core's worth: 1.00". */
export function describeCores(cores: Cores): string {
  const { coreMs, speedUp } = cores.measured ?? cores;
  const took = `${coreMs.length} at once took ${coreMs.map((t) => t.toFixed(0)).join(', ')} ms, ${speedUp.toFixed(2)} side by side`;
  return cores.measured
    ? `${took}; held to the CPU budget, ${cores.measured.budget} core's worth: ${cores.speedUp.toFixed(2)}`
    : took;
}

/**
 * The cores as the server gets them: as many requests as there are cores, fired at once at a route whose pool has
 * at least that many threads, so each runs on a core of its own; each one's time is its core's time while all are
 * busy. `runs` times after one that is not counted (it warms the threads it lands on); the medians, fastest first.
 * A CPU quota, or a neighbour on the same physical core, shows here as slower cores, which a count of the cores
 * (availableParallelism()) does not see.
 */
export async function measureCores(
  baseUrl: string,
  path: (id: number) => string,
  cores: number,
  workMs: number,
  runs = 5,
): Promise<Cores> {
  const byRank: number[][] = Array.from({ length: cores }, () => []);
  for (let k = 0; k <= runs; k++) {
    const burst = await fireBurst({ baseUrl, path, requests: cores, timeoutMs: 120_000 + cores * workMs * 4 });
    const failed = burst.requests.find((r) => r.status !== 200);
    if (failed) throw new Error(`${path(1)} answered ${failed.status ?? failed.error} while the cores were being measured`);
    if (k === 0) continue;
    const times = burst.requests.map((r) => r.endMs - r.startMs).sort((a, b) => a - b);
    for (const [rank, ms] of times.entries()) byRank[rank]!.push(ms);
  }
  return {
    ...withinBudget(
      byRank.map((times) => median(times)),
      workMs,
      cpuBudget(),
    ),
    requests: (runs + 1) * cores,
  };
}

/**
 * The cores' times, slowed where together they would do more than the CPU this process may use (`cpuBudget`, which
 * the servers it starts share). A quota is paid per period (100 ms), not per request: two requests at once under a
 * quota of one core's worth took 331 and 400 ms for hashes of 196 ms here, a speed-up of 1.08, because the one that
 * ended first left the whole quota to the other; eight at once then took 1600 ms, eight hashes' time and not
 * eight ÷ 1.08 (libuv-pool under a quota, UV_THREADPOOL_SIZE=8). A burst longer than a period gets the budget and
 * no more.
 */
export function withinBudget(coreMs: number[], workMs: number, budget: number): Cores {
  const measured = { coreMs: coreMs.map(round3), speedUp: round3(coreMs.reduce((sum, ms) => sum + workMs / ms, 0)) };
  if (measured.speedUp <= budget) return measured;
  const slower = measured.speedUp / budget;
  return { coreMs: coreMs.map((ms) => round3(ms * slower)), speedUp: round3(budget), measured: { ...measured, budget } };
}

/**
 * A server's CPU time per request (all its threads, from /proc): singly, back to back, while the cores were timed, and
 * in the measured bursts.
 */
export interface CpuPerRequest {
  single: number;
  sustained: number | null;
  /** While measureCores timed the cores (as many at once as cores); null where the cores were not timed. */
  cores?: number | null;
  /** The median of the bursts' runs; null until one ran. */
  burst: number | null;
  bursts: number[];
}

/** How far the bursts' CPU per request moved from w's: both, and the change as a fraction (−0.353: 35 % less). */
export interface WorkMoved {
  timedMs: number;
  burstMs: number;
  by: number;
}

/**
 * Where the bursts spent another CPU time per request than w's own requests did (back to back where there were, else
 * singly), by more than `tolerance`: the work cost more or less between them, so w did not hold for the bursts. Under
 * half this machine's CPU the same hash cost the server 303 ms of CPU back to back when w was timed and 196 ms in the
 * burst a few seconds later, and the burst's total came in at 0.67 of its model (libuv-pool, UV_THREADPOOL_SIZE=1).
 * null where it held, or where there is no /proc.
 */
export function workMoved(cpu: CpuPerRequest | null, tolerance = 0.1): WorkMoved | null {
  const change = cpuChange(cpu);
  return change !== null && Math.abs(change.by) > tolerance ? change : null;
}

/**
 * The CPU per request the model's inputs were timed at (back to back where they were, else while the cores were timed,
 * else singly) beside the bursts' own, and the change; null before a burst ran or without /proc.
 */
export function cpuChange(cpu: CpuPerRequest | null): WorkMoved | null {
  if (cpu === null || cpu.burst === null) return null;
  const timedMs = cpu.sustained ?? cpu.cores ?? cpu.single;
  return { timedMs, burstMs: cpu.burst, by: round3(cpu.burst / timedMs - 1) };
}

/**
 * The model with its work priced as the bursts spent it: every time the model is made of (w, the cores' times) is a
 * hash's work on a core, so the whole scales with the server's CPU time per hash, in the bursts against when the
 * inputs were timed. What is left between it and the total is how many hashes ran at once, which is the lesson, not
 * whether the host kept its speed between the timing and the burst (under half this machine's CPU a hash cost the
 * server 303 ms of CPU when w was timed and 196 ms in the burst a few seconds later). null where the CPU is unknown.
 */
export function modelAtBurstCpu(predictedMs: number, cpu: CpuPerRequest | null): number | null {
  const change = cpuChange(cpu);
  return change === null ? null : round3((predictedMs * change.burstMs) / change.timedMs);
}
