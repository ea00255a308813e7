/**
 * pool-sweep — the pool size sets the waves.
 *
 * What it shows: the blog's 100 blocking requests of 3 s, served by pools of 10, 20, 25, 40, 50 and 100
 * threads. Each total lands on ceil(100 / P) · 3 s: 30, 15, 12, 9, 6 and 3 s. That is the evidence for the
 * real cause of the blog's 9 s: FastAPI's thread limit of 40 (anyio's CapacityLimiter), not the CPU count.
 *
 * Run:    npx tsx scripts/pool-sweep.ts [--requests 100] [--delay-ms 3000] [--pools 10,20,25,40,50,100] [--quick]
 * Expect: every total within ~1 % of the model; one timeline per pool size with ceil(N / P) stacked waves.
 * Takes:  about 90 s (the six totals add up to 75 s); --quick about 5 s. Writes results/pool-sweep.json.
 */
import { parseScriptFlags } from './lib/cli.ts';
import { startServer } from './lib/server-process.ts';
import { measureBurst, measuringFromFlags } from './lib/measure.ts';
import { writeResults, DEFAULT_RESULTS_DIR, type Measurement } from './lib/results.ts';
import { printSweep } from './lib/sweep.ts';

const flags = parseScriptFlags({
  about: 'Fires N blocking requests at pools of several sizes and compares each total with ceil(N / P) · D.',
  defaultOut: DEFAULT_RESULTS_DIR,
  numbers: {
    requests: { help: 'requests fired at once, per pool size', default: 100, quick: 20 },
    delayMs: { help: 'how long each request blocks its thread, ms', default: 3000, quick: 200, min: 0, max: 600_000 },
  },
  lists: {
    pools: { help: 'pool sizes to try', default: [10, 20, 25, 40, 50, 100], quick: [4, 10, 20] },
  },
});
// How every burst is measured: progress, --repeat, --client, --quick.
const measuring = measuringFromFlags('pool-sweep', flags);

const measurements: Measurement[] = [];
for (const poolSize of flags.pools) {
  // 1. A fresh server per pool size: the pool is fixed for a server's life, as FastAPI's limiter is.
  const server = await startServer({ poolSize, delayMs: flags.delayMs });
  try {
    // 2. The same burst each time; only P changes.
    measurements.push(
      await measureBurst(server, { label: `P=${poolSize}`, endpoint: '/sync-test', poolSize, requests: flags.requests, delayMs: flags.delayMs, ...measuring }),
    );
  } finally {
    await server.stop();
  }
}

// 3. Measured beside the model, as a table and as a chart.
const sweep = printSweep(measurements, {
  title: `pool-sweep · N = ${flags.requests} blocking requests of ${flags.delayMs} ms`,
  xLabel: 'pool size P',
  pointLabel: (m) => `P = ${m.poolSize}`,
  quiet: flags.quiet,
});
const file = await writeResults(flags.out, {
  experiment: 'pool-sweep',
  params: { requests: flags.requests, delayMs: flags.delayMs, pools: flags.pools, quick: flags.quick },
  measurements,
  sweep,
});
if (!flags.quiet) console.log(`\nwrote ${file}`);
