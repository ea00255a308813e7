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
 * smallest pool in the chain (the process's, the pooler's, the database's) sets the waves. Last, a link people forget
 * is still busy: 100 requests at P = 10 whose client hangs up after 500 ms. Where the server cancels their queries in
 * PostgreSQL (--db-cancel on, its default), nothing sleeps on and the next burst is its model; with --db-cancel off
 * (as node-postgres alone leaves it) PostgreSQL sleeps 30 s for nobody, and the next burst waits behind all of it.
 *
 * Run:    npx tsx scripts/pool-chain.ts [--requests 100] [--delay-ms 3000] [--workers 1,2,4] [--pools 10,40]
 *                                       [--hang-up-after-ms 500] [--quick]
 * Expect: every chain's total within 2 % of its model plus the servers' own intake (printed beside), the model's
 *         waves adding up to 30, 9, 15, 6, 9 and 3 s without the pooler where each process gets an even share (4 × 40:
 *         a few of the 100 refused with 503 before the first answer, exactly as predicted) and to 15 s each through
 *         PgBouncer's 20 (every chain with K · P ≥ 20), with none refused; find-pool: 40 for 4
 *         processes × 10 (or 4 processes of 10 where the bursts were dealt out unevenly), 20 behind PgBouncer. Without pgbouncer installed (apt-get install pgbouncer), its part is
 *         skipped with the reason. After the hang-up: with cancelling, no pg_sleep within a few hundred ms and the
 *         next 10 in one wave of 3 s; without, pg_sleep for the leftovers' 10 waves less the hang-up, and the next
 *         10 after them.
 * Takes:  the waves above, a server start per chain and find-pool's bursts (the committed run's time is in
 *         results/summary.json); --quick (max_connections 20: the role gets 17; D = 1 s; PgBouncer's pool 5) checks
 *         the shape. Writes results/pool-chain.json.
 */
import { defineExperiment } from './lib/experiment.ts';
import { MAX_CONNECTIONS_FLAG, QUERY_DELAY_FLAG } from './lib/flags.ts';
import { startPostgres, describePostgres, type PostgresDescription } from './lib/processes/postgres.ts';
import { startPgBouncer, PGBOUNCER_DEFAULT_POOL, type PgBouncer } from './lib/processes/pgbouncer.ts';
import type { RunningServer, ServerOptions } from './lib/processes/start-server.ts';
import { searchForPool } from './lib/find-pool/search.ts';
import { judge, type Finding } from './lib/find-pool/verdict.ts';
import { predictChain, predictTotalMs } from './lib/model/model.ts';
import { fireBurst } from './lib/client/burst.ts';
import { waitUntil } from './lib/core/wait-until.ts';
import { round3 } from '../server/numbers.ts';
import { UserError } from './lib/core/outcomes.ts';
import { waveSizes } from './lib/model/waves.ts';
import { isOk } from './lib/client/burst-types.ts';
import { intakeMs, ratioWithIntake } from './lib/measure/server-account.ts';
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

/** The burst fired at once after a hang-up: whether the server cancelled the hung-up queries, and the leftovers' model. */
export interface AfterHangUp {
  /** --db-cancel on (true) or off. */
  dbCancel: boolean;
  /** This burst's model had the abandoned queries all run first: ceil((abandoned + N) / P) · D − the hang-up. */
  modelWithLeftoversMs: number;
}

/** The hang-up lesson, with cancelling on and off: how long PostgreSQL went on sleeping for clients that had left. */
export interface HangUp {
  /** --db-cancel on (true) or off. */
  dbCancel: boolean;
  /** N requests to /db-test on one process with a pool of P, D each, whose client hung up after hangUpAfterMs. */
  requests: number;
  dbPool: number;
  delayMs: number;
  hangUpAfterMs: number;
  /** The hang-up → no pg_sleep running (pg_stat_activity), ms; null: still one at the deadline. */
  noSleepAfterMs: number | null;
  /** The hang-up → every connection idle in the pool and none waited for (the server's /stats), ms; null: not by the deadline. */
  poolIdleAfterMs: number | null;
  /** The abandoned queries all run to their end: ceil(N / P) · D − the hang-up. */
  leftoversModelMs: number;
  /** The label of the burst fired at once after the same hang-up again. */
  next: string;
}

/** What pool-chain adds to its results: the PostgreSQL, the PgBouncer (or why not), find-pool's findings, the hang-ups. */
export interface PoolChainResults {
  postgres: PostgresDescription;
  pgbouncer: { version: string; poolMode: 'transaction'; poolSize: number; maxClientConn: number } | { skipped: string };
  /**
   * find-pool, fired from the outside at two chains: what it found (foundPoolSize: its P, or where it saw several
   * processes, the one number it knows they serve in all), beside the chain's own smallest pool.
   */
  findings: (Finding & { chain: string; foundPoolSize: number | null; predictedPoolSize: number })[];
  hangUps: HangUp[];
}

/** Every measurement's own fields: a chain's, or the burst after a hang-up's. */
export type PoolChainMeasurement = Partial<ChainFields> & { afterHangUp?: AfterHangUp };

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
    hangUpAfterMs: {
      help: 'the hang-up lesson: the client hangs up on every request after this long, ms',
      default: 500,
      quick: 300,
      min: 1,
      max: 60_000,
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
}).withResults<PoolChainResults, PoolChainMeasurement>();
const { flags } = experiment;
const N = flags.requests;
const D = flags.delayMs;
if (flags.hangUpAfterMs >= D)
  throw new UserError(
    `pool-chain: --hang-up-after-ms (${flags.hangUpAfterMs}) must be shorter than --delay-ms (${D}): the client hangs up while its query runs.`,
    2,
  );

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
const startChain = async (
  workers: number,
  dbPool: number,
  delayMs: number,
  bouncer: PgBouncer | null,
  more: Pick<ServerOptions, 'dbCancel'> = {},
) => {
  // The last chain's connections must not hold slots of this one's (PgBouncer's own stay open between its clients).
  await postgres.otherConnectionsGone(bouncer ? await bouncer.serverBackends() : []);
  return experiment.watch(
    await experiment.startServer({
      workers,
      poolSize: 1, // /db-test awaits: the thread pool is not a link of this chain
      delayMs,
      databaseUrl: bouncer?.url ?? postgres.url,
      dbPoolSize: dbPool,
      ...(bouncer ? { pooler: 'pgbouncer' as const } : {}),
      ...more,
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

// 5. The hang-up lesson, at P = 10 on one process: N requests whose client hangs up after 500 ms, on a server that
//    cancels their queries and on one that does not (--db-cancel off): how long PostgreSQL sleeps on for nobody, and
//    what the next burst, fired at once after the same hang-up, pays for it.
const hangUps: HangUp[] = [];
for (const dbCancel of [true, false]) hangUps.push(await hangUpLesson(dbCancel));

// 6. Every chain beside its model, its refusals beside the predicted ones; what find-pool found; the hang-ups.
const chainMeasurements = experiment.measurements.filter((m) => m.connectionsOpened !== undefined);
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
      'intake ms',
      'with intake',
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
        ms(intakeMs(m.server)),
        ratioWithIntake(m.totalMs, model, m.server)?.toFixed(3) ?? '–',
        (m.waves ?? []).join(', '),
        m.ok,
        m.errors,
        m.expectedRefused ?? 'not predicted',
      ];
    }),
  ),
);
experiment.say(
  '\n(intake: the first request to reach a process → the last, from the servers’ own /stats: the part of a total the model leaves out; with intake: total ÷ (model + intake))',
);
for (const m of chainMeasurements.filter((m) => m.startupStatement))
  experiment.say(`\n${m.label}, at start: ${m.startupStatement}`);
if (findings.length > 0) {
  experiment.say('\nFIND-POOL, FROM THE OUTSIDE\n');
  for (const f of findings) experiment.say(`${f.chain} (its smallest pool: ${f.predictedPoolSize}): ${f.sentence}`);
}

experiment.say('\nAFTER A HANG-UP\n');
experiment.say(
  formatTable(
    [
      '--db-cancel',
      'N',
      'P',
      'hung up after ms',
      'no pg_sleep after ms',
      'pool idle after ms',
      'leftovers model ms',
      'next burst ms',
      'its model ms',
      'with the leftovers ms',
    ],
    hangUps.map((h) => {
      const next = experiment.measurements.find((m) => m.label === h.next)!;
      return [
        h.dbCancel ? 'on' : 'off',
        h.requests,
        h.dbPool,
        h.hangUpAfterMs,
        ms(h.noSleepAfterMs),
        ms(h.poolIdleAfterMs),
        ms(h.leftoversModelMs),
        ms(next.totalMs),
        ms(next.predictedMs),
        ms(next.afterHangUp?.modelWithLeftoversMs),
      ];
    }),
  ),
);

await experiment.finish({ postgres: describePostgres(postgres), pgbouncer, findings, hangUps });

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
  const [least, most] = finding.poolSizeRange ?? [null, null];
  const foundPoolSize = finding.poolSize ?? (least !== null && least === most ? least : null);
  findings.push({ ...finding, chain, foundPoolSize, predictedPoolSize });
}

/**
 * N requests to /db-test whose client hangs up after hangUpAfterMs, on one process with the smallest pool, cancelling
 * (or not): then PostgreSQL watched until nothing sleeps, and the pool until it is idle; then the same hang-up again
 * and, at once, P requests: one wave of D where the hang-up stopped the work, the leftovers' waves and then D where not.
 */
async function hangUpLesson(dbCancel: boolean): Promise<HangUp> {
  const dbPool = Math.min(...flags.pools);
  const label = POOL_CHAIN.afterHangUp(dbCancel);
  const leftoversModelMs = predictTotalMs({ requests: N, poolSize: dbPool, delayMs: D }) - flags.hangUpAfterMs;
  const deadlineMs = leftoversModelMs + D;
  experiment.say(
    `\nhang-up, --db-cancel ${dbCancel ? 'on' : 'off'}: ${N} requests at P = ${dbPool}, hung up after ${flags.hangUpAfterMs} ms`,
  );
  return experiment.withServer(
    () => startChain(1, dbPool, D, null, { dbCancel }),
    async (server) => {
      const watch = await postgres.watchSleeps();
      try {
        const hangUp = async () => {
          const burst = await fireBurst({
            baseUrl: server.url,
            path: (i) => `/db-test/${i}`,
            requests: N,
            timeoutMs: flags.hangUpAfterMs,
          });
          const answered = burst.requests.filter((r) => r.error !== 'timeout').length;
          if (answered > 0) experiment.fail(`${label}: ${answered} of ${N} requests ended before the client hung up`);
          return performance.now();
        };
        // How long after `since` the check first held, ms; null where it did not by the deadline.
        const after = (since: number, check: () => Promise<boolean>) =>
          waitUntil(async () => (await check()) && performance.now() - since, label, deadlineMs, 10).catch(() => null);
        const hungUp = await hangUp();
        const noSleepAfterMs = await after(hungUp, async () => (await watch.sleeping()) === 0);
        const poolIdleAfterMs = await after(hungUp, async () => {
          const db = (await server.stats()).database!;
          return db.waiting === 0 && db.idle === db.open;
        });
        experiment.say(`  no pg_sleep ${ms(noSleepAfterMs)} ms after the hang-up, the pool idle after ${ms(poolIdleAfterMs)} ms`);
        await hangUp();
        const modelWithLeftoversMs = predictTotalMs({ requests: N + dbPool, poolSize: dbPool, delayMs: D }) - flags.hangUpAfterMs;
        await experiment.measure(server, {
          label,
          endpoint: '/db-test',
          poolSize: dbPool,
          requests: dbPool,
          delayMs: D,
          warmUp: false, // at once: the leftovers, where there are any, are what it measures
          timeoutMs: 2 * modelWithLeftoversMs + 10_000,
          extra: { afterHangUp: { dbCancel, modelWithLeftoversMs } },
        });
        return {
          dbCancel,
          requests: N,
          dbPool,
          delayMs: D,
          hangUpAfterMs: flags.hangUpAfterMs,
          noSleepAfterMs: noSleepAfterMs === null ? null : round3(noSleepAfterMs),
          poolIdleAfterMs: poolIdleAfterMs === null ? null : round3(poolIdleAfterMs),
          leftoversModelMs,
          next: label,
        };
      } finally {
        await watch.close();
      }
    },
  );
}
