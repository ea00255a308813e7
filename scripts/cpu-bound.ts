/**
 * cpu-bound — CPU work, on the event loop and in the pool.
 *
 * What it shows: the blog ends with "CPU-bound work needs multiprocessing" — true for Python, whose GIL lets
 * one thread run Python at a time. Node's worker threads each have their own JavaScript engine and run in
 * parallel as the OS schedules them on the cores, so a pool does speed CPU work up: N requests of w ms each take
 * N · w on the event loop, and max(1, N / C) · w in a pool on C cores (the N threads share the cores). The
 * speed-up is min(N, cores), bounded by the cores, not by the 40 threads of the pool: a pool for CPU work is
 * sized near the cores.
 *
 * The model's inputs are measured on the server, in the same run: w is the mean of warm single requests to each
 * route, and the cores are timed as the server gets them, as many requests at once as there are cores (a CPU quota
 * or a busy neighbour makes some slower; availableParallelism() does not know). The table shows the model with the
 * cores measured beside the one with whole, equal cores.
 *
 * Run:    npx tsx scripts/cpu-bound.ts [--work-ms 200] [--requests 1,2,4,8] [--pool 40] [--quick]
 * Expect: speed-up about 1 at N = 1, and from N = 2 on the cores' own (as measured in the run: two requests side
 *         by side against one), however large N or the pool; every total near its model, max(1, N / cores) · w.
 * Takes:  25 s in the committed run (results/summary.json); --quick shortens the work to check the shape.
 *         Writes results/cpu-bound.json (with the work as the server timed it).
 */
import { CPU_BOUND } from './lib/results/labels.ts';
import { availableParallelism } from 'node:os';
import { defineExperiment } from './lib/experiment.ts';
import { idealCores, predictCpuTotalMs, predictCpuWaveMs } from './lib/model/model.ts';
import { formatTable, ms } from './lib/view/table.ts';
import { calibrate, describeCores, measureCores, measureServedWorkMs } from './lib/measure/calibrate.ts';
import { round3 } from '../server/numbers.ts';
import { cpuWork } from '../server/pool-tasks.js';
import type { Cores, ServedWork } from './lib/measure/calibrate.ts';

/** What cpu-bound adds to its results: the work as the server did it, and the speed-up at each N. */
export interface CpuBoundResults {
  work: { iterations: number; loop: ServedWork; pool: ServedWork; cores: number; measured: Cores };
  speedups: { requests: number; speedup: number; expected: number; idealModelMs: number }[];
}

const experiment = defineExperiment({
  about: 'Runs a fixed amount of CPU work per request on the event loop and in the pool, and compares.',
  numbers: {
    workMs: { help: 'CPU work per request: about this many ms of one core here', default: 200, quick: 80, min: 10, max: 10_000 },
    pool: { help: 'worker threads for the pooled run', default: 40, quick: 4, max: 1024 },
  },
  lists: {
    requests: { help: 'N: requests fired at once', default: [1, 2, 4, 8], quick: [1, 2, 4] },
  },
  // One burst of CPU work on a shared machine can be 10 % off for no reason of its own: a median of three.
  defaultRepeat: 3,
}).withResults<CpuBoundResults>();
const { flags } = experiment;
const cores = availableParallelism();

// 1. How much work a request is: the iterations of the hash loop that take about workMs here.
const { iterations } = calibrate(flags.workMs, cpuWork, 100_000);
const server = await experiment.server({ poolSize: flags.pool, delayMs: 0, cpuIterations: iterations });

// 2. The model's inputs, from the server: w on the loop and in a pool thread, and the cores as it gets them.
const loopWork = await measureServedWorkMs(server.url, (i) => `/cpu-loop-test/${i}`);
const poolWork = await measureServedWorkMs(server.url, (i) => `/cpu-pool-test/${i}`);
const measured = await measureCores(server.url, (i) => `/cpu-pool-test/${i}`, cores, poolWork.ms);
experiment.say(
  `${iterations} iterations a request: ${loopWork.ms.toFixed(1)} ms on the event loop, ${poolWork.ms.toFixed(1)} ms in a pool thread ` +
    `(means of ${loopWork.samplesMs.length} single requests, the extremes left out); ${describeCores(measured)}`,
);

const poolModel = (requests: number, coreMs: readonly number[]) => {
  const work = { requests, poolSize: flags.pool, workMs: poolWork.ms, coreMs };
  return { predictedMs: round3(predictCpuTotalMs(work)), waveMs: round3(predictCpuWaveMs(work)) };
};
for (const requests of flags.requests) {
  // 3. On the event loop: one request at a time, N · w.
  await experiment.measure(server, {
    label: CPU_BOUND.burst('loop', requests),
    endpoint: '/cpu-loop-test',
    poolSize: 1,
    requests,
    delayMs: loopWork.ms,
  });
  // 4. In the pool: N threads at once, time-sliced over the cores the server gets: max(1, N / cores) · w while N ≤ P.
  const { predictedMs, waveMs } = poolModel(requests, measured.coreMs);
  await experiment.measure(server, {
    label: CPU_BOUND.burst('pool', requests),
    endpoint: '/cpu-pool-test',
    poolSize: flags.pool,
    requests,
    delayMs: poolWork.ms,
    predictedMs,
    extra: { waveMs },
  });
}
const { measurements } = experiment;

// 5. The speed-up at each N; the model with the cores measured beside the one with the machine's cores.
const rows = flags.requests.map((requests) => {
  const loop = measurements.find((m) => m.label === CPU_BOUND.burst('loop', requests))!;
  const pool = measurements.find((m) => m.label === CPU_BOUND.burst('pool', requests))!;
  return {
    requests,
    loop,
    pool,
    speedup: loop.totalMs / pool.totalMs,
    ideal: poolModel(requests, idealCores(cores, poolWork.ms)).predictedMs,
  };
});
if (!flags.quiet) {
  console.log(
    `\ncpu-bound · w = ${loopWork.ms.toFixed(0)} ms (loop), ${poolWork.ms.toFixed(0)} ms (pool), timed on the server · ${cores} cores, ${measured.speedUp.toFixed(2)} measured · pool of ${flags.pool}\n`,
  );
  console.log(
    formatTable(
      [
        'N',
        'loop ms',
        'loop model',
        'pool ms',
        'pool model',
        `model, ${cores} whole cores`,
        'speed-up',
        'min(N, cores measured)',
      ],
      rows.map((r) => [
        r.requests,
        ms(r.loop.totalMs),
        ms(r.loop.predictedMs),
        ms(r.pool.totalMs),
        ms(r.pool.predictedMs),
        ms(r.ideal),
        `${r.speedup.toFixed(2)}×`,
        Math.min(r.requests, measured.speedUp, flags.pool).toFixed(2),
      ]),
    ),
  );
}
await experiment.finish({
  work: { iterations, loop: loopWork, pool: poolWork, cores, measured },
  speedups: rows.map((r) => ({
    requests: r.requests,
    speedup: round3(r.speedup),
    expected: round3(Math.min(r.requests, measured.speedUp, flags.pool)),
    idealModelMs: r.ideal,
  })),
});
