/**
 * pool-chain — pools in a chain: K processes, each with its own database pool, in front of PostgreSQL's limit, and
 * a pooler between them. The smallest pool in the chain sets the waves.
 *
 * What it shows: production has not one pool but a chain. K server processes (--workers K, like uvicorn's or PM2's),
 * each with a node-postgres pool of P, want K · P connections, and PostgreSQL lets an application's role open
 * max_connections − 3 reserved = 97. 100 requests that each run SELECT pg_sleep(3), at K = 1, 2, 4 × P = 10, 40:
 * while K · P fits, the K pools serve K · P at once, ceil(100 / (K · P)) waves of 3 s. At 4 × 40 = 160 it does not:
 * the primary says so at start, before its ready line (wanted, allowed, what each worker got), the 97 are shared
 * out, and each process refuses (503) the part of its share of the burst beyond the connections it opened, exactly
 * as many as predicted from those two, at once: nothing hangs. Then PgBouncer in front, in transaction mode with its
 * default pool of 20 and max_client_conn above K · P: the K · P client connections become 20 server connections, no
 * request is refused, and its pool sets the waves, 5 of 20, whatever K · P. And find-pool, fired at two of these
 * chains from the outside, finds the smallest pool in each. The rule: K · P must stay below the role's limit, and the
 * smallest pool in the chain (the process's, the pooler's, the database's) sets the waves.
 *
 * Run:    npx tsx scripts/pool-chain.ts [--requests 100] [--delay-ms 3000] [--workers 1,2,4] [--pools 10,40] [--quick]
 * Expect: every chain's total within 2 % of its model, whose waves add up to 30, 9, 15, 6, 9 and 3 s without the
 *         pooler (4 × 40: a few of the 100 refused with 503 before the first answer, exactly as predicted) and to 15 s
 *         each through PgBouncer's 20 (every chain with K · P ≥ 20), with none refused; find-pool: 40 for 4
 *         processes × 10, 20 behind PgBouncer. Without pgbouncer installed (apt-get install pgbouncer), its part is
 *         skipped with the reason.
 * Takes:  the waves above, a server start per chain and find-pool's bursts (the committed run's time is in
 *         results/summary.json); --quick (max_connections 20: the role gets 17; D = 1 s; PgBouncer's pool 5) checks
 *         the shape. Writes results/pool-chain.json.
 */
import { defineExperiment } from './lib/experiment.ts';
import { MAX_CONNECTIONS_FLAG, QUERY_DELAY_FLAG } from './lib/flags.ts';
import { startPostgres, describePostgres, type PostgresDescription } from './lib/processes/postgres.ts';
import { startPgBouncer, PGBOUNCER_DEFAULT_POOL, type PgBouncer } from './lib/processes/pgbouncer.ts';
import type { RunningServer } from './lib/processes/start-server.ts';
import { searchForPool } from './lib/find-pool/search.ts';
import { judge, type Finding } from './lib/find-pool/verdict.ts';
import { predictChain } from './lib/model/model.ts';
import { waveSizes } from './lib/model/waves.ts';
import { isOk } from './lib/client/burst-types.ts';
import { POOL_CHAIN } from './lib/results/labels.ts';
import { formatTable, ms, duration } from './lib/view/table.ts';
import type { Measurement } from './lib/results/types.ts';
import type { ClusterStats } from '../server/stats-window.ts';

/** What pool-chain adds to a measurement of a chain. */
export interface ChainFields {
  /** P: each process's node-postgres pool (--db-pool). */
  dbPool: number;
  /** The pooler in front (the server was started with --pooler pgbouncer), and its pool of server connections. */
  pooler?: 'pgbouncer';
  poolerPoolSize?: number;
  /** Connections each process's pool had open when the burst came (its own /stats), by PID. */
  connectionsOpened: Record<string, number>;
  /** Each process's share of the burst: every answer it gave, refusals included (the X-Worker header), by PID. */
  requestsPerWorker?: Record<string, number>;
  /** What the primary said at start of the sum of the pools (null: nothing to say, they fit). */
  startupStatement: string | null;
}

/** What pool-chain adds to its results: the PostgreSQL, the PgBouncer (or why not), and find-pool's findings. */
export interface PoolChainResults {
  postgres: PostgresDescription;
  pgbouncer: { version: string; poolMode: 'transaction'; poolSize: number; maxClientConn: number } | { skipped: string };
  /** find-pool, fired from the outside at two chains: what it found, beside the chain's own smallest pool. */
  findings: (Finding & { chain: string; predictedPoolSize: number })[];
}

const experiment = defineExperiment({
  about:
    'K server processes × a node-postgres pool of P against PostgreSQL’s limit, then behind PgBouncer: the smallest pool in the chain sets the waves.',
  numbers: {
    requests: { help: 'requests fired at once, per chain', default: 100, quick: 20 },
    delayMs: QUERY_DELAY_FLAG,
    maxConnections: MAX_CONNECTIONS_FLAG,
    poolerPool: {
      help: "PgBouncer's pool of server connections (default_pool_size; its own default is 20)",
      default: PGBOUNCER_DEFAULT_POOL,
      quick: 5,
      min: 1,
      max: 10_000,
    },
    findDelayMs: {
      help: "find-pool's chains: the servers' delay, ms (find-pool fires a dozen bursts; it is not told)",
      default: 1000,
      quick: 300,
      min: 10,
      max: 600_000,
    },
  },
  lists: {
    workers: { help: 'K: server processes', default: [1, 2, 4], quick: [1, 2], max: 64 },
    pools: { help: 'P: each process’s database pool', default: [10, 40], quick: [10], max: 10_000 },
  },
}).withResults<PoolChainResults, Partial<ChainFields>>();
const { flags } = experiment;
const N = flags.requests;
const D = flags.delayMs;

// 1. A throwaway PostgreSQL, and how many connections it lets the server's role open: the last link of the chain.
const started = await startPostgres({ maxConnections: flags.maxConnections });
const postgres = 'unavailable' in started ? await experiment.skip(started.unavailable) : started;
const limit = postgres.connectionLimit;
experiment.say(
  `PostgreSQL ${postgres.version.split(' ')[1]}: max_connections ${postgres.maxConnections}, ${limit} for the server's role`,
);
const chains = flags.workers.flatMap((workers) => flags.pools.map((dbPool) => ({ workers, dbPool })));

/** Connections each process's pool holds now, by PID (one process: the server itself). */
async function connectionsOpened(server: RunningServer): Promise<Record<string, number>> {
  const stats = await server.stats();
  if ('perWorker' in stats)
    return Object.fromEntries(Object.entries((stats as ClusterStats).perWorker).map(([pid, s]) => [pid, s.database?.open ?? 0]));
  return { [server.pid]: stats.database?.open ?? 0 };
}

/** The chain in a server: K processes each with a pool of P, in front of PostgreSQL or of PgBouncer. */
const startChain = async (workers: number, dbPool: number, delayMs: number, bouncer: PgBouncer | null) => {
  await postgres.otherConnectionsGone(); // the last chain's connections must not hold slots of this one's
  return experiment.watch(
    await experiment.startServer({
      workers,
      poolSize: 1, // /db-test awaits: the thread pool is not a link of this chain
      delayMs,
      databaseUrl: bouncer?.url ?? postgres.url,
      dbPoolSize: dbPool,
      ...(bouncer ? { pooler: 'pgbouncer' as const } : {}),
    }),
  );
};

/**
 * One chain, one burst: the model from the connections each process opened and the even split the primary deals
 * (round-robin), then, once the burst has said how it was really split, the model from that split.
 */
async function measureChain(
  workers: number,
  dbPool: number,
  bouncer: PgBouncer | null,
): Promise<Measurement<Partial<ChainFields>>> {
  const label = bouncer ? POOL_CHAIN.pooled(workers, dbPool) : POOL_CHAIN.direct(workers, dbPool);
  return experiment.withServer(
    () => startChain(workers, dbPool, D, bouncer),
    async (server) => {
      const opened = await connectionsOpened(server);
      const pids = Object.keys(opened);
      const beyondLimit = !bouncer && workers * dbPool > limit;
      const refusalMs = beyondLimit ? ((await postgres.refusalMs()) ?? 0) : 0;
      const model = (requests: number[]) =>
        predictChain({
          requests,
          connections: pids.map((pid) => opened[pid]!),
          poolSize: dbPool,
          poolerPoolSize: bouncer?.poolSize ?? null,
          delayMs: D,
          refusalMs,
        });
      const even = model(pids.map((_, k) => Math.floor(N / workers) + (k < N % workers ? 1 : 0)));
      const statement =
        server
          .warnings()
          .split('\n')
          .find((line) => line.startsWith('database: ')) ?? null;
      const m = await experiment.measure(server, {
        label,
        endpoint: '/db-test',
        // The pool that sets the waves: how many the chain runs at once, its smallest link.
        poolSize: even.waves[0] ?? null,
        requests: N,
        delayMs: D,
        predictedMs: even.totalMs,
        extra: {
          workers,
          dbPool,
          connectionLimit: limit,
          connectionsOpened: opened,
          startupStatement: statement,
          ...(beyondLimit ? { refusalMs } : {}),
          ...(bouncer ? { pooler: 'pgbouncer' as const, poolerPoolSize: bouncer.poolSize } : {}),
        },
      });
      const share = Object.fromEntries(pids.map((pid) => [pid, m.requests.filter((r) => r.worker === pid).length]));
      const split = model(pids.map((pid) => share[pid]!));
      experiment.amend(m, {
        requestsPerWorker: share,
        predictedFromSplitMs: split.totalMs ?? undefined,
        expectedRefused: split.refused,
        ...(split.unpredictable ? { refusalsUnpredictable: split.unpredictable } : {}),
        waves: waveSizes(m.requests.filter(isOk), D),
      });
      return m;
    },
  );
}

// 2. The chains straight to PostgreSQL: K pools of P, and the role's limit behind them.
for (const { workers, dbPool } of chains) await measureChain(workers, dbPool, null);

// 3. find-pool from the outside, at the chain of the most processes on the smallest pool that fits the limit.
const findings: PoolChainResults['findings'] = [];
const [directTarget] = chains
  .filter((c) => c.workers * c.dbPool <= limit)
  .sort((a, b) => b.workers - a.workers || a.dbPool - b.dbPool);
if (directTarget) await findPool(directTarget.workers, directTarget.dbPool, null);

// 4. PgBouncer in front: transaction mode, its pool of 20, max_client_conn above every K · P (and find-pool's bursts).
const largest = Math.max(...chains.map((c) => c.workers * c.dbPool));
const bouncer = await startPgBouncer({ databaseUrl: postgres.url, poolSize: flags.poolerPool, maxClientConn: largest + 20 });
let pgbouncer: PoolChainResults['pgbouncer'];
if ('unavailable' in bouncer) {
  pgbouncer = { skipped: bouncer.unavailable };
  experiment.say(`\nPgBouncer skipped: ${bouncer.unavailable}`);
} else {
  const { version, poolMode, poolSize, maxClientConn } = bouncer;
  pgbouncer = { version, poolMode, poolSize, maxClientConn };
  experiment.say(`\n${version} in front: ${poolMode} mode, a pool of ${poolSize}, max_client_conn ${maxClientConn}`);
  // Where K · P is below its pool, the processes' own pools are the smallest link, as without it: not repeated.
  for (const { workers, dbPool } of chains.filter((c) => c.workers * c.dbPool >= bouncer.poolSize))
    await measureChain(workers, dbPool, bouncer);
  // find-pool at one process whose own pool is larger than PgBouncer's: the pooler is the smallest link. (At several
  // processes it reads a shared pool as each process's own: it has no way to tell them apart from the outside.)
  const [pooledTarget] = chains
    .filter((c) => c.workers * c.dbPool >= bouncer.poolSize)
    .sort((a, b) => a.workers - b.workers || b.dbPool - a.dbPool);
  if (pooledTarget) await findPool(pooledTarget.workers, pooledTarget.dbPool, bouncer);
  await bouncer.stop();
}

// 5. Every chain beside its model, its refusals beside the predicted ones; then what find-pool found.
const chainMeasurements = experiment.measurements.filter((m) => m.dbPool !== undefined);
experiment.say(`\nPOOLS IN A CHAIN · ${N} queries of pg_sleep(${D / 1000}) · the role's limit ${limit}\n`);
experiment.say(
  formatTable(
    [
      'chain',
      'K',
      'P',
      'pooler',
      'at once',
      'opened',
      'split',
      'total ms',
      'model ms',
      'ratio',
      'waves',
      'ok',
      'refused',
      'model refused',
    ],
    chainMeasurements.map((m) => {
      const model = m.predictedFromSplitMs ?? m.predictedMs;
      return [
        m.label,
        m.workers ?? 1,
        m.dbPool!,
        m.pooler ? `${m.pooler} (${m.poolerPoolSize})` : '–',
        m.poolSize ?? '–',
        Object.values(m.connectionsOpened ?? {}).join('/'),
        Object.values(m.requestsPerWorker ?? {}).join('/'),
        ms(m.totalMs),
        ms(model),
        model ? (m.totalMs / model).toFixed(3) : '–',
        (m.waves ?? []).join(', '),
        m.ok,
        m.errors,
        m.expectedRefused ?? 'not predicted',
      ];
    }),
  ),
);
for (const m of chainMeasurements.filter((m) => m.startupStatement))
  experiment.say(`\n${m.label}, at start: ${m.startupStatement}`);
if (findings.length > 0) {
  experiment.say('\nFIND-POOL, FROM THE OUTSIDE\n');
  for (const f of findings) experiment.say(`${f.chain} (its smallest pool: ${f.predictedPoolSize}): ${f.sentence}`);
}

await experiment.finish({ postgres: describePostgres(postgres), pgbouncer, findings });

/**
 * find-pool's search, fired at a chain it is not told about (a shorter D: it fires a dozen bursts), and its verdict
 * beside the chain's own smallest pool: min(K · P, the pooler's pool), within the role's limit.
 */
async function findPool(workers: number, dbPool: number, via: PgBouncer | null): Promise<void> {
  const chain = via ? POOL_CHAIN.pooled(workers, dbPool) : POOL_CHAIN.direct(workers, dbPool);
  const predictedPoolSize = Math.min(workers * dbPool, via?.poolSize ?? limit, limit);
  const budgetMs = 60 * flags.findDelayMs;
  experiment.say(`\nfind-pool at ${chain} (D = ${duration(flags.findDelayMs)}, not told):`);
  const finding = await experiment.withServer(
    () => startChain(workers, dbPool, flags.findDelayMs, via),
    async (server) => {
      const url = `${server.url}/db-test/{id}`;
      const search = await searchForPool({
        url,
        request: {},
        insecure: false,
        workerHeader: 'X-Worker',
        maxRequests: 4 * predictedPoolSize,
        budgetMs,
        onStep: (step) => experiment.say(`  N = ${step.requests} (${step.purpose}): ${step.waves.join(', ') || 'no wave'}`),
      });
      return judge(search, url, budgetMs);
    },
  );
  experiment.say(`  ${finding.sentence}`);
  findings.push({ ...finding, chain, predictedPoolSize });
}
