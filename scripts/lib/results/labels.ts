/**
 * The names other code looks results up by, defined once and shared by the script that writes them and whoever reads
 * them (report.ts, the README's tables, the tests): each experiment's file stem, and the labels of the measurements
 * read elsewhere. No side effects: a reader imports this, never the script (a script runs when imported).
 */

/** Files in scripts/ that are not experiments: run-all skips them (files starting with `_` are templates). */
export const NOT_EXPERIMENTS: readonly string[] = ['run-all.ts', 'report.ts', 'live.ts'];

/** Whether a file in scripts/ is an experiment run-all runs. */
export function isExperimentScript(file: string): boolean {
  return file.endsWith('.ts') && !file.startsWith('_') && !NOT_EXPERIMENTS.includes(file);
}

/** async-vs-sync: the blog's two bursts. */
export const ASYNC_VS_SYNC = { experiment: 'async-vs-sync', async: 'async', sync: 'sync' } as const;

/** compare-fastapi: the blog's app and ours, each server's two bursts, and FastAPI with its limiter raised. */
export const COMPARE_FASTAPI = {
  experiment: 'compare-fastapi',
  fastapiAsync: 'fastapi-async',
  fastapiSync: 'fastapi-sync',
  fastapiSyncRaised: (limit: number) => `fastapi-sync-limit-${limit}`,
  honoAsync: 'hono-async',
  honoSync: 'hono-sync',
} as const;

/** fidelity: a burst of `kind` (async, trivial, sync) fired by one client at N. */
export const FIDELITY = {
  experiment: 'fidelity',
  burst: (kind: 'async' | 'trivial' | 'sync', client: 'suite' | 'reference' | 'curl', n: number) => `${kind}-${client}-${n}`,
} as const;

/** pool-sweep: one burst per pool size P. */
export const POOL_SWEEP = { experiment: 'pool-sweep', pool: (poolSize: number) => `P=${poolSize}` } as const;

/** concurrency-sweep: sync and async bursts of N requests. */
export const CONCURRENCY_SWEEP = {
  experiment: 'concurrency-sweep',
  burst: (kind: 'sync' | 'async', requests: number) => `${kind} N=${requests}`,
} as const;

/** blocking-event-loop: the blocking sleep on the loop itself and in the pool, each with its probes. */
export const BLOCKING_EVENT_LOOP = { experiment: 'blocking-event-loop', loop: 'loop', pool: 'pool' } as const;

/** cpu-bound: N requests of CPU work, on the event loop or in the pool. */
export const CPU_BOUND = {
  experiment: 'cpu-bound',
  burst: (where: 'loop' | 'pool', requests: number) => `${where} N=${requests}`,
} as const;

/** responsiveness: the pool kept busy (sync) and the async burst, each with its probes. */
export const RESPONSIVENESS = { experiment: 'responsiveness', sync: 'sync', async: 'async' } as const;

/** real-io: the awaited sleep, a slow API called with fetch, a database query. */
export const REAL_IO = { experiment: 'real-io', sleep: 'sleep', upstream: 'upstream', database: 'database' } as const;

/** database-pool: node-postgres' pool of P; at the role's limit; beyond it with as many requests. */
export const DATABASE_POOL = {
  experiment: 'database-pool',
  pool: (poolSize: number) => `P=${poolSize}`,
  atLimit: (limit: number) => `P=${limit} (the limit)`,
  beyond: (poolSize: number) => `P=${poolSize}, N=${poolSize} (beyond)`,
} as const;

/** libuv-pool: the sweep of UV_THREADPOOL_SIZE, and the hashes beside file reads (on libuv's threads, in the pool). */
export const LIBUV_POOL = {
  experiment: 'libuv-pool',
  threadpool: (size: number) => `threadpool=${size}`,
  hashLibuv: 'hash-libuv',
  hashPool: 'hash-pool',
} as const;

/** workers: each server's bursts at K processes. */
export const WORKERS = {
  experiment: 'workers',
  burst: (server: 'hono' | 'fastapi', kind: 'sync' | 'async', workers: number) => `${server}-${kind}-k${workers}`,
} as const;

/** A probe fired beside a burst: `<burst>-probe-<name>` (measure/measure.ts writes it so). */
export const probeLabel = (burst: string, probe: string) => `${burst}-probe-${probe}`;

/** pool-chain: a chain of K processes × a database pool of P, straight to PostgreSQL or through PgBouncer. */
export const POOL_CHAIN = {
  experiment: 'pool-chain',
  direct: (workers: number, dbPool: number) => `k${workers}-p${dbPool}`,
  pooled: (workers: number, dbPool: number) => `pgbouncer-k${workers}-p${dbPool}`,
  /** The burst fired at once after N requests hung up, on a server cancelling their queries (or not). */
  afterHangUp: (dbCancel: boolean) => `after-hang-up-cancel-${dbCancel ? 'on' : 'off'}`,
} as const;

/**
 * runtimes: per runtime, the blog's two bursts, 10 000 awaited requests, hashes and FIFO opens on its hidden pool (at
 * each UV_THREADPOOL_SIZE, `default` where unset), and --workers 2 (labelled as K processes are: `hono-` first).
 */
export const RUNTIMES_EXPERIMENT = {
  experiment: 'runtimes',
  async: (runtime: string) => `${runtime}-async`,
  sync: (runtime: string) => `${runtime}-sync`,
  manyAsync: (runtime: string, requests: number) => `${runtime}-async-${requests}`,
  hashes: (runtime: string, threadpool: number | null) => `${runtime}-hash-uv-${threadpool ?? 'default'}`,
  fifo: (runtime: string, threadpool: number | null) => `${runtime}-fifo-uv-${threadpool ?? 'default'}`,
  workers: (runtime: string, workers: number) => `hono-${runtime}-sync-k${workers}`,
} as const;
