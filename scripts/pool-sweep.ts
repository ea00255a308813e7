/**
 * pool-sweep — the pool size sets the waves.
 *
 * What it shows: the blog's 100 blocking requests of 3 s, served by pools of 10, 20, 25, 40, 50 and 100
 * threads. Each total lands on ceil(100 / P) · 3 s: 30, 15, 12, 9, 6 and 3 s. That is the evidence for the
 * real cause of the blog's 9 s: FastAPI's thread limit of 40 (anyio's CapacityLimiter), not the CPU count.
 *
 * Run:    npx tsx scripts/pool-sweep.ts [--requests 100] [--delay-ms 3000] [--pools 10,20,25,40,50,100] [--quick]
 * Expect: every total on the model ceil(N / P) · D, a little above it; one timeline per pool size with ceil(N / P)
 *         stacked waves.
 * Takes:  95 s in the committed run (results/summary.json; the six models add up to 75 s); --quick shortens D
 *         and N to check the shape. Writes results/pool-sweep.json.
 */
import { POOL_SWEEP } from './lib/results/labels.ts';
import { defineExperiment } from './lib/experiment.ts';
import { printSweep } from './lib/view/table.ts';

const experiment = defineExperiment({
  about: 'Fires N blocking requests at pools of several sizes and compares each total with ceil(N / P) · D.',
  numbers: {
    requests: { help: 'requests fired at once, per pool size', default: 100, quick: 20 },
    delayMs: { help: 'how long each request blocks its thread, ms', default: 3000, quick: 200, min: 0, max: 600_000 },
  },
  lists: {
    pools: { help: 'pool sizes to try', default: [10, 20, 25, 40, 50, 100], quick: [4, 10, 20] },
  },
});
const { flags } = experiment;

for (const poolSize of flags.pools) {
  // 1. A fresh server per pool size: the pool is fixed for a server's life, as FastAPI's limiter is.
  await experiment.withServer({ poolSize, delayMs: flags.delayMs }, (server) =>
    // 2. The same burst each time; only P changes.
    experiment.measure(server, {
      label: POOL_SWEEP.pool(poolSize),
      endpoint: '/sync-test',
      poolSize,
      queueLimit: server.settings?.queueLimit,
      requests: flags.requests,
      delayMs: flags.delayMs,
    }),
  );
}

// 3. Measured beside the model, as a table and as a chart.
const sweep = printSweep(experiment.measurements, {
  title: `pool-sweep · N = ${flags.requests} blocking requests of ${flags.delayMs} ms`,
  xLabel: 'pool size P',
  pointLabel: (m) => `P = ${m.poolSize}`,
  quiet: flags.quiet,
});
await experiment.finish({ sweep });
