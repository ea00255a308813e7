/**
 * responsiveness — does the server stay responsive while the pool is saturated?
 *
 * What it shows: 100 blocking requests keep all 40 pool threads busy for 9 s. Meanwhile a /health probe and
 * the async endpoint, fired every 50 ms, are answered as if nothing were happening: /health in about a
 * millisecond, the async endpoint in D plus a millisecond. The pool takes the blocking work off the event loop,
 * and the server's own event-loop delay (from /stats) stays in the low milliseconds. The async burst beside
 * it shows the same for 100 awaited timers.
 *
 * Run:    npx tsx scripts/responsiveness.ts [--requests 100] [--delay-ms 3000] [--pool 40] [--probe-every-ms 50] [--quick]
 * Expect: probe p99 of a few ms (health) and D + a few ms (async); event-loop delay max ≲ 10 ms.
 * Takes:  about 15 s; --quick about 2 s. Writes results/responsiveness.json.
 */
import { parseScriptFlags } from './lib/cli.ts';
import { startServer } from './lib/server-process.ts';
import { measureBurstWithProbes } from './lib/measure.ts';
import { writeResults, DEFAULT_RESULTS_DIR, type Measurement } from './lib/results.ts';
import { createProgress } from './lib/progress.ts';
import { formatTable, ms, printMeasurements } from './lib/table.ts';

const flags = parseScriptFlags({
  about: 'Probes /health and the async endpoint every few ms while a burst saturates the pool.',
  defaultOut: DEFAULT_RESULTS_DIR,
  numbers: {
    requests: { help: 'requests in the saturating burst', default: 100, quick: 30 },
    delayMs: { help: 'how long each request waits or blocks, ms', default: 3000, quick: 300, min: 1, max: 600_000 },
    pool: { help: 'worker threads for the sync endpoint', default: 40, quick: 10, max: 1024 },
    probeEveryMs: { help: 'one probe of each kind every this many ms', default: 50, quick: 25, max: 10_000 },
  },
});
const progress = createProgress('responsiveness', { quiet: flags.quiet });
const probes = [
  { label: 'health', path: '/health', delayMs: 0 },
  { label: 'async', path: '/asyncio-test/0', delayMs: flags.delayMs },
];

const server = await startServer({ poolSize: flags.pool, delayMs: flags.delayMs });
const measurements: Measurement[] = [];
try {
  for (const [label, endpoint, poolSize] of [
    // 1. The pool saturated: every thread blocked, the rest queued.
    ['sync', '/sync-test', flags.pool],
    // 2. The same number of awaited timers, for contrast.
    ['async', '/asyncio-test', null],
  ] as const) {
    const run = await measureBurstWithProbes(
      server,
      { label, endpoint, poolSize, requests: flags.requests, delayMs: flags.delayMs, progress },
      probes,
      flags.probeEveryMs,
    );
    measurements.push(run.burst, ...run.probes);
  }
} finally {
  await server.stop();
}

// 3. The bursts, what the probes saw, and the server's event-loop delay during each burst.
const bursts = measurements.filter((m) => !m.label.includes('-probe-'));
printMeasurements(`responsiveness · ${flags.requests} requests of ${flags.delayMs} ms, pool of ${flags.pool}`, bursts, flags.quiet);
if (!flags.quiet) {
  console.log(`\nProbes every ${flags.probeEveryMs} ms during each burst, and the server's event-loop delay:\n`);
  console.log(
    formatTable(
      ['probe', 'count', 'p50 ms', 'p99 ms', 'max ms', 'loop delay p50', 'p99', 'max'],
      measurements
        .filter((m) => m.label.includes('-probe-'))
        .map((m) => {
          const loop = bursts.find((b) => m.label.startsWith(`${b.label}-probe-`))?.server?.eventLoopDelayMs;
          return [m.label, m.concurrency, ms(m.latencyMs.p50), ms(m.latencyMs.p99), ms(m.latencyMs.max), ms(loop?.p50), ms(loop?.p99), ms(loop?.max)];
        }),
    ),
  );
}
const file = await writeResults(flags.out, {
  experiment: 'responsiveness',
  params: { requests: flags.requests, delayMs: flags.delayMs, pool: flags.pool, probeEveryMs: flags.probeEveryMs, quick: flags.quick },
  measurements,
});
if (!flags.quiet) console.log(`\nwrote ${file}`);
