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
 * Run:    npx tsx scripts/cpu-bound.ts [--work-ms 200] [--requests 1,2,4,8] [--pool 40] [--quick]
 * Expect: on 2 cores, speed-up ≈ 1 at N = 1 and ≈ 2 from N = 2 on, however large N or the pool.
 * Takes:  about 10 s; --quick about 3 s. Writes results/cpu-bound.json (with the calibrated work).
 */
import { availableParallelism } from 'node:os';
import { defineExperiment } from './lib/experiment.ts';
import { predictCpuTotalMs, predictCpuWaveMs } from './lib/model.ts';
import { formatTable, ms } from './lib/table.ts';
import { calibrate } from './lib/calibrate.ts';
import { cpuWork } from '../server/pool-tasks.js';

const experiment = defineExperiment({
  about: 'Runs a fixed amount of CPU work per request on the event loop and in the pool, and compares.',
  numbers: {
    workMs: { help: 'CPU work per request, calibrated on this machine, ms', default: 200, quick: 80, min: 10, max: 10_000 },
    pool: { help: 'worker threads for the pooled run', default: 40, quick: 4, max: 1024 },
  },
  lists: {
    requests: { help: 'N: requests fired at once', default: [1, 2, 4, 8], quick: [1, 2, 4] },
  },
});
const { flags } = experiment;
const cores = availableParallelism();

// 1. Calibrate: how many iterations of the hash loop take workMs here (the same function the server runs).
const calibration = calibrate(flags.workMs, cpuWork, 100_000);
experiment.say(`calibrated: ${calibration.iterations} iterations ≈ ${calibration.ms.toFixed(1)} ms on this machine (${cores} cores)`);

const server = await experiment.server({ poolSize: flags.pool, delayMs: 0, extraArgs: ['--cpu-iterations', String(calibration.iterations)] });
for (const requests of flags.requests) {
  // 2. On the event loop: one request at a time, N · w.
  await experiment.measure(server, { label: `loop N=${requests}`, endpoint: '/cpu-loop-test', poolSize: 1, requests, delayMs: calibration.ms });
  // 3. In the pool: N threads at once, time-sliced over the cores: max(1, N / cores) · w while N ≤ P.
  await experiment.measure(server, {
    label: `pool N=${requests}`,
    endpoint: '/cpu-pool-test',
    poolSize: flags.pool,
    requests,
    delayMs: calibration.ms,
    predictedMs: predictCpuTotalMs({ requests, poolSize: flags.pool, cores, workMs: calibration.ms }),
    extra: { waveMs: predictCpuWaveMs({ requests, poolSize: flags.pool, cores, workMs: calibration.ms }) },
  });
}
const { measurements } = experiment;

// 4. The speed-up at each N, beside min(N, cores).
const rows = flags.requests.map((requests) => {
  const loop = measurements.find((m) => m.label === `loop N=${requests}`)!;
  const pool = measurements.find((m) => m.label === `pool N=${requests}`)!;
  return { requests, loop, pool, speedup: loop.totalMs / pool.totalMs, expected: Math.min(requests, cores, flags.pool) };
});
if (!flags.quiet) {
  console.log(`\ncpu-bound · ${calibration.ms.toFixed(0)} ms of CPU work per request · ${cores} cores · pool of ${flags.pool}\n`);
  console.log(
    formatTable(
      ['N', 'loop ms', 'loop model', 'pool ms', 'pool model', 'speed-up', 'min(N, cores)'],
      rows.map((r) => [r.requests, ms(r.loop.totalMs), ms(r.loop.predictedMs), ms(r.pool.totalMs), ms(r.pool.predictedMs), `${r.speedup.toFixed(2)}×`, r.expected]),
    ),
  );
}
await experiment.finish({
  calibration: { ...calibration, cores },
  speedups: rows.map((r) => ({ requests: r.requests, speedup: Math.round(r.speedup * 1000) / 1000, expected: r.expected })),
});
