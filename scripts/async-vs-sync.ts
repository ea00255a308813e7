/**
 * async-vs-sync — the blog's test.sh, for Node.
 *
 * What it shows: 100 requests fired at once at an endpoint that awaits a 3 s timer all finish together,
 * in ≈3 s. The same 100 at an endpoint that blocks a thread for 3 s take ≈9 s: the pool has 40 threads, so
 * they run as 40 + 40 + 20, three waves of 3 s. That is FastAPI's `def` endpoint in the blog, and the model
 * ceil(N / P) · D says so before we measure.
 *
 * Run:    npx tsx scripts/async-vs-sync.ts [--requests 100] [--delay-ms 3000] [--pool 40] [--quick] [--repeat K]
 *         npx tsx scripts/async-vs-sync.ts --client curl   # the blog's own method: 100 background curls, date +%s
 *         npx tsx scripts/async-vs-sync.ts --url http://127.0.0.1:8000   # a server already running, e.g. by hand
 * Expect: async in one wave, the model's D; sync in ceil(N / P) waves (3 · D at the defaults); each total a little
 *         above its model (the server taking the burst in and writing the answers out), the median of 3 bursts
 *         with their range. A burst beyond the pool and its queue (e.g. --requests 10000: 40 + 1000) is partly
 *         refused, each refusal a 503 at once: the model predicts how many (8960), and they are a result. With
 *         --client curl the blog's method: each total also holds starting a process per request, and its whole
 *         seconds can be 1 s off.
 * Takes:  40 s in the committed run (results/summary.json); --quick shortens D and N to check the shape.
 *         Writes results/async-vs-sync.json.
 */
import { defineExperiment } from './lib/experiment.ts';
import { ASYNC_VS_SYNC } from './lib/results/labels.ts';
import { URL_FLAG } from './lib/flags.ts';
import { errorsBesideModel, formatTable, ms, totalWithRange } from './lib/view/table.ts';
import { predictWaves } from './lib/model/model.ts';

const experiment = defineExperiment({
  about: 'Fires N concurrent requests at the async and the sync endpoint and compares each total with the model.',
  numbers: {
    requests: { help: 'requests fired at once, per endpoint', default: 100, quick: 30 },
    delayMs: { help: 'how long each request waits or blocks, ms', default: 3000, quick: 200, min: 0, max: 600_000 },
    pool: { help: 'worker threads for the sync endpoint', default: 40, quick: 10, max: 1024 },
  },
  texts: { url: URL_FLAG },
  // The blog's two figures are the README's headline: a median of three, never one burst on a shared machine.
  defaultRepeat: 3,
});
const { flags } = experiment;

// 1. Start the server in its own process, with the pool warm, and wait for its ready line (or use the one at --url).
const server = await experiment.server({ poolSize: flags.pool, delayMs: flags.delayMs });

// 2. The same burst at each endpoint: the async one holds no thread, the sync one holds a pool thread.
const { poolSize, delayMs, queueLimit } = server.settings; // the flags', or the running server's own (--url)
const burst = { requests: flags.requests, delayMs };
await experiment.measure(server, { label: ASYNC_VS_SYNC.async, endpoint: '/asyncio-test', poolSize: null, ...burst });
await experiment.measure(server, {
  label: ASYNC_VS_SYNC.sync,
  endpoint: '/sync-test',
  poolSize,
  queueLimit,
  ...burst,
});

// 3. The blog's "TEST RESULTS", with the model beside each figure.
const curl = flags.client === 'curl';
const repeats = flags.repeat > 1 ? `, median (min–max) of ${flags.repeat} bursts` : '';
experiment.say(
  `\nTEST RESULTS — ${flags.requests} concurrent requests, ${delayMs} ms each, pool of ${poolSize} threads${repeats}`,
);
experiment.say(curl ? "client: the blog's method, one background curl per request, timed by date +%s and $EPOCHREALTIME\n" : '');
experiment.say(
  formatTable(
    ['endpoint', 'total ms', ...(curl ? ['date +%s'] : []), 'model ms', 'waves', 'ratio', 'ok', 'errors', 'p50 ms', 'p99 ms'],
    experiment.measurements.map((m) => [
      m.endpoint,
      totalWithRange(m),
      ...(curl ? [`${m.repeats?.wholeSeconds?.join(', ') ?? m.wholeSeconds} s`] : []),
      ms(m.predictedMs),
      // Beyond the pool and its queue the server refuses the rest at once: the waves are the served requests'.
      predictWaves({ requests: m.concurrency - (m.expectedRefused ?? 0), poolSize: m.poolSize, delayMs: m.delayMs }),
      m.predictedMs ? (m.totalMs / m.predictedMs).toFixed(3) : '–',
      m.ok,
      errorsBesideModel(m),
      ms(m.latencyMs.p50),
      ms(m.latencyMs.p99),
    ]),
  ),
);

// 4. Every request's offsets go into the JSON, so the waves can be drawn later.
await experiment.finish({ params: flags.url ? { url: server.url } : {} });
