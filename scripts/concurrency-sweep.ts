/**
 * concurrency-sweep — how the total grows with N.
 *
 * What it shows: with a pool of 40, blocking requests cost one more wave of D each time N passes a multiple
 * of 40: N = 40 → 3 s, 41 → 6 s, 80 → 6 s, 81 → 9 s, 120 → 9 s, 200 → 15 s, a staircase. Awaited timers hold
 * no thread, so the async endpoint stays at ≈ D for 100, 1 000 and 10 000 requests.
 *
 * Run:    npx tsx scripts/concurrency-sweep.ts [--pool 40] [--delay-ms 3000] [--sync-requests 40,41,80,81,120,200]
 *                                              [--async-requests 100,1000,10000] [--quick] [--url URL]
 * Expect: sync totals on the staircase ceil(N / 40) · D, one step up each time N passes a multiple of 40; async
 *         totals one wave of D, a little more at 10 000: what a total holds above D is the server taking the
 *         requests in and writing the answers out, both on its one event loop, and it says how long each took
 *         (D + intake + output accounts for the total).
 * Takes:  68 s in the committed run (results/summary.json; the models alone add up to 48 s of sync and 9 s of
 *         async); --quick shortens D and N to check the shape. Writes results/concurrency-sweep.json.
 *         10 000 connections need `ulimit -n` above ~10 100.
 */
import { CONCURRENCY_SWEEP } from './lib/results/labels.ts';
import { defineExperiment } from './lib/experiment.ts';
import { URL_FLAG } from './lib/flags.ts';
import { accountOf, type Account } from './lib/measure/server-account.ts';
import { formatTable, ms, printSweep } from './lib/view/table.ts';

/** What concurrency-sweep adds to its results: each async total taken apart by the server's clock. */
export interface ConcurrencySweepResults {
  accounts: Record<string, Account>;
}

const experiment = defineExperiment({
  about: 'Sweeps the number of concurrent requests: a staircase for the pooled sync endpoint, flat for async.',
  numbers: {
    pool: { help: 'worker threads for the sync endpoint', default: 40, quick: 4, max: 1024 },
    delayMs: { help: 'how long each request waits or blocks, ms', default: 3000, quick: 200, min: 0, max: 600_000 },
  },
  lists: {
    syncRequests: { help: 'N for the sync endpoint', default: [40, 41, 80, 81, 120, 200], quick: [4, 5, 8, 9] },
    asyncRequests: { help: 'N for the async endpoint', default: [100, 1000, 10_000], quick: [100, 1000], max: 100_000 },
  },
  texts: { url: URL_FLAG },
}).withResults<ConcurrencySweepResults>();
const { flags } = experiment;

// 1. One server for the whole sweep; only N changes.
const server = await experiment.server({
  poolSize: flags.pool,
  delayMs: flags.delayMs,
  queueLimit: Math.max(1000, ...flags.syncRequests),
});

// 2. The staircase: blocking requests on a pool of P.
for (const requests of flags.syncRequests) {
  await experiment.measure(server, {
    label: CONCURRENCY_SWEEP.burst('sync', requests),
    endpoint: '/sync-test',
    poolSize: server.settings.poolSize,
    queueLimit: server.settings.queueLimit,
    requests,
    delayMs: server.settings.delayMs,
  });
}
// 3. The flat line: awaited timers, however many.
for (const requests of flags.asyncRequests) {
  await experiment.measure(server, {
    label: CONCURRENCY_SWEEP.burst('async', requests),
    endpoint: '/asyncio-test',
    poolSize: null,
    requests,
    delayMs: server.settings.delayMs,
  });
}

// 4. Both sweeps beside the model, as one table and one chart.
const sweep = printSweep(experiment.measurements, {
  title: `concurrency-sweep · sync on a pool of ${server.settings.poolSize}, then async · D = ${server.settings.delayMs} ms`,
  xLabel: 'requests fired at once (N)',
  pointLabel: (m) => `${m.poolSize === null ? 'async' : 'sync'} ${m.concurrency}`,
  quiet: flags.quiet,
});

// 5. What an async total holds above D, by the server's own clock: taking the requests in, and writing the answers.
const accounts = Object.fromEntries(
  experiment.measurements.flatMap((m) => {
    const account = m.poolSize === null ? accountOf(m.server, m.delayMs) : null;
    return account ? [[m.label, account]] : [];
  }),
);
experiment.say(
  `\nTHE ASYNC TOTALS TAKEN APART — intake: first to last arrival; output: the last timer due to the last answer written\n`,
);
experiment.say(
  formatTable(
    ['N', 'total ms', 'D', 'intake ms', 'output ms', 'D + intake + output', 'of the total'],
    Object.entries(accounts).map(([label, a]) => {
      const m = experiment.measurements.find((x) => x.label === label)!;
      return [
        m.concurrency,
        ms(m.totalMs),
        m.delayMs,
        ms(a.intakeMs),
        ms(a.outputMs),
        ms(a.accountedMs),
        `${((a.accountedMs / m.totalMs) * 100).toFixed(1)} %`,
      ];
    }),
  ),
);
await experiment.finish({ sweep, accounts });
