/**
 * blocking-event-loop — what if nobody used a pool?
 *
 * What it shows: the same blocking sleep, run on the event loop itself (/blocking-loop-test) instead of a
 * pool thread. Requests no longer overlap at all: N of them take N · D, a pool of one. Worse, nothing else
 * runs meanwhile: a /health probe and the async endpoint, fired every 50 ms alongside, stall until the loop
 * is free again, and the server's own event-loop delay shows the whole block. Beside it, the pooled
 * /sync-test with the same probes: total ≈ D, probes answered in ms. This is why a Node server must keep
 * blocking calls off the event loop, and why FastAPI runs `def` endpoints on threads.
 *
 * Run:    npx tsx scripts/blocking-event-loop.ts [--requests 5] [--delay-ms 1000] [--probe-every-ms 50] [--quick] [--url URL]
 * Expect: loop: N waves of D, one request at a time (5 · D at the defaults), probes stalled behind them, and an
 *         event-loop delay whose max is about (N − 1) · D (all but the first request served back to back, with no
 *         timer run between); pool: one wave of D, probes answered at once, the event loop never late by much.
 *         (Kept short on purpose: 5 requests of 1 s instead of the blog's 100 of 3 s, which would freeze the
 *         server for 300 s.)
 * Takes:  12 s in the committed run (results/summary.json); --quick shortens D to check the shape.
 *         Writes results/blocking-event-loop.json.
 */
import { BLOCKING_EVENT_LOOP } from './lib/results/labels.ts';
import { defineExperiment } from './lib/experiment.ts';
import { measureBesideProbes, probeExperimentFlags } from './lib/probes.ts';

const experiment = defineExperiment({
  about: 'Runs the blocking sleep on the event loop, then in the pool, probing /health and the async endpoint meanwhile.',
  // Its bursts' N and D and the pool; every probe experiment also has --probe-every-ms and --url.
  ...probeExperimentFlags({
    requests: { help: 'blocking requests fired at once', default: 5, quick: 3 },
    delayMs: { help: 'how long each request blocks, ms', default: 1000, quick: 200, min: 1, max: 60_000 },
    pool: { help: 'worker threads for the pooled run', default: 40, quick: 10, max: 1024 },
  }),
});
const { flags } = experiment;

// The bursts, each with /health and the async endpoint probed beside it; then the bursts beside the model, what
// the probes saw and the server's event-loop delay, and the results.
await measureBesideProbes(
  experiment,
  ({ delayMs }) => `blocking-event-loop · ${flags.requests} requests blocking ${delayMs} ms each`,
  (server, burst) => [
    // 1. On the event loop: a "pool" of one, and it is the only thread that answers anything.
    { label: BLOCKING_EVENT_LOOP.loop, endpoint: '/blocking-loop-test', poolSize: 1, ...burst },
    // 2. In the pool: the loop stays free.
    {
      label: BLOCKING_EVENT_LOOP.pool,
      endpoint: '/sync-test',
      poolSize: server.settings.poolSize,
      queueLimit: server.settings.queueLimit,
      ...burst,
    },
  ],
);
