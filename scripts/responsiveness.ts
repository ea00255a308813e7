/**
 * responsiveness — does the server stay responsive while the pool is saturated?
 *
 * What it shows: 100 blocking requests keep all 40 pool threads busy for 9 s. Meanwhile a /health probe and
 * the async endpoint, fired every 50 ms, are answered as if nothing were happening: /health in about a
 * millisecond, the async endpoint in D plus a millisecond. The pool takes the blocking work off the event loop,
 * and the server's own event-loop delay (from /stats) stays in the low milliseconds. The async burst beside
 * it shows the same for 100 awaited timers.
 *
 * Run:    npx tsx scripts/responsiveness.ts [--requests 100] [--delay-ms 3000] [--pool 40] [--probe-every-ms 50] [--quick] [--url URL]
 * Expect: /health probes answered without waiting for the pool (p99 a small part of D), async probes in D, and
 *         the event loop never blocked (its delay a small part of D), while the pool runs its ceil(N / P) waves.
 * Takes:  22 s in the committed run (results/summary.json); --quick shortens D to check the shape.
 *         Writes results/responsiveness.json.
 */
import { RESPONSIVENESS } from './lib/results/labels.ts';
import { defineExperiment } from './lib/experiment.ts';
import { measureBesideProbes, probeExperimentFlags } from './lib/probes.ts';

const experiment = defineExperiment({
  about: 'Probes /health and the async endpoint every few ms while a burst saturates the pool.',
  // Its bursts' N and D and the pool; every probe experiment also has --probe-every-ms and --url.
  ...probeExperimentFlags({
    requests: { help: 'requests in the saturating burst', default: 100, quick: 30 },
    delayMs: { help: 'how long each request waits or blocks, ms', default: 3000, quick: 200, min: 1, max: 600_000 },
    pool: { help: 'worker threads for the sync endpoint', default: 40, quick: 10, max: 1024 },
  }),
});
const { flags } = experiment;

// The bursts, each with /health and the async endpoint probed beside it; then the bursts beside the model, what
// the probes saw and the server's event-loop delay, and the results.
await measureBesideProbes(
  experiment,
  ({ delayMs, poolSize }) => `responsiveness · ${flags.requests} requests of ${delayMs} ms, pool of ${poolSize}`,
  (server, burst) => [
    // 1. The pool saturated: every thread blocked, the rest queued.
    {
      label: RESPONSIVENESS.sync,
      endpoint: '/sync-test',
      poolSize: server.settings.poolSize,
      queueLimit: server.settings.queueLimit,
      ...burst,
    },
    // 2. The same number of awaited timers, for contrast.
    { label: RESPONSIVENESS.async, endpoint: '/asyncio-test', poolSize: null, ...burst },
  ],
);
