/**
 * The README's tables, each written from the committed results: the blog beside ours, every pool's P, and one table
 * per lesson. A table reads its measurements by the labels the scripts write them with (scripts/lib/results/labels.ts).
 */
import { formatFigure, type PageTable } from '../lib/view/figures.ts';
import { splitText } from '../lib/view/table.ts';
import { BLOG } from '../lib/model/model.ts';
import {
  ASYNC_VS_SYNC,
  BLOCKING_EVENT_LOOP,
  COMPARE_FASTAPI,
  CONCURRENCY_SWEEP,
  CPU_BOUND,
  DATABASE_POOL,
  LIBUV_POOL,
  REAL_IO,
  WORKERS,
} from '../lib/results/labels.ts';
import type { Measurement } from '../lib/results/types.ts';
import type { CompareFastApiResults } from '../compare-fastapi.ts';
import type { ConcurrencySweepResults } from '../concurrency-sweep.ts';
import type { CpuBoundResults } from '../cpu-bound.ts';
import type { DatabasePoolResults } from '../database-pool.ts';
import type { LibuvPoolResults } from '../libuv-pool.ts';
import type { RealIoResults } from '../real-io.ts';
import type { WorkersResults } from '../workers.ts';
import { measured, model, pageTable, resultsFile, withRange } from './cells.ts';

const json = (experiment: string) => `${experiment}.json`;
const s3 = (ms: number) => formatFigure(ms, 's3');

/** The blog's printed figures, FastAPI measured here, ours, and the model: 100 requests of 3 s. */
const blog: PageTable = (results) => {
  const ours = resultsFile(results, json(ASYNC_VS_SYNC.experiment));
  const compare = resultsFile<CompareFastApiResults>(results, json(COMPARE_FASTAPI.experiment));
  const limit = Number(compare.params.raisedLimit);
  const [async, sync] = [measured(ours, ASYNC_VS_SYNC.async), measured(ours, ASYNC_VS_SYNC.sync)];
  return pageTable(
    [
      `${async.concurrency} requests at once, ${formatFigure(async.delayMs, 's0')} each`,
      'the blog printed',
      'FastAPI, measured here',
      'Hono + tinypool, here',
      'model',
    ],
    [
      [
        'async: awaits a timer',
        `${BLOG.asyncSeconds} s`,
        withRange(measured(compare, COMPARE_FASTAPI.fastapiAsync)),
        `**${withRange(async)}**`,
        model(async.predictedMs),
      ],
      [
        `sync: blocks a thread, ${sync.poolSize} threads`,
        `${BLOG.syncSeconds} s`,
        withRange(measured(compare, COMPARE_FASTAPI.fastapiSync)),
        `**${withRange(sync)}**`,
        model(sync.predictedMs),
      ],
      [
        `sync, FastAPI's limit raised to ${limit}`,
        '–',
        withRange(measured(compare, COMPARE_FASTAPI.fastapiSyncRaised(limit))),
        '–',
        model(measured(compare, COMPARE_FASTAPI.fastapiSyncRaised(limit)).predictedMs),
      ],
    ],
    [false, true, true, true, true],
  );
};

/** Every kind of waiting and its pool, each row from the lesson that measures it. */
const pools: PageTable = (results) => {
  const real = resultsFile<RealIoResults>(results, json(REAL_IO.experiment));
  const ours = resultsFile(results, json(ASYNC_VS_SYNC.experiment));
  const loop = measured(resultsFile(results, json(BLOCKING_EVENT_LOOP.experiment)), BLOCKING_EVENT_LOOP.loop);
  const libuv = measured(resultsFile(results, json(LIBUV_POOL.experiment)), LIBUV_POOL.threadpool(4));
  const workers = resultsFile<WorkersResults>(results, json(WORKERS.experiment));
  const k = Math.max(...(workers.params.workers as number[]));
  const cluster = measured(workers, WORKERS.burst('hono', 'sync', k));
  const database = measured(real, REAL_IO.database);
  const upstream = measured(real, REAL_IO.upstream);
  const sync = measured(ours, ASYNC_VS_SYNC.sync);
  const row = (what: string, pool: string, p: string, m: Measurement) => [what, pool, p, withRange(m), model(m.predictedMs)];
  return pageTable(
    ['waiting on', 'its pool', 'P', 'measured', 'model'],
    [
      row('an awaited timer', 'none', '∞', measured(real, REAL_IO.sleep)),
      row(
        'an awaited `fetch` of a slow API',
        "Node's fetch: a connection per request",
        `∞ (it opened ${real.fetch.peakConnections})`,
        upstream,
      ),
      row("a blocking call in tinypool (the blog's `def`)", 'tinypool', String(sync.poolSize), sync),
      row('`SELECT pg_sleep(…)` on PostgreSQL', "node-postgres' `pg.Pool`", String(database.poolSize), database),
      row(`the event loop itself, blocked (${loop.concurrency} × ${formatFigure(loop.delayMs, 's0')})`, 'the loop', '1', loop),
      row(
        `async \`crypto.pbkdf2\` (${libuv.concurrency} hashes)`,
        "libuv's threadpool, and the cores",
        `4 (${resultsFile(results, json(LIBUV_POOL.experiment)).environment.cpus} cores)`,
        libuv,
      ),
      row(`${k} processes (\`--workers ${k}\`)`, `${k} × ${cluster.poolSize} threads`, String(k * cluster.poolSize!), cluster),
    ],
    [false, false, true, true, true],
  );
};

/** The model beside each measured total, one column per setting. */
function sideways(headline: string, columns: { setting: string; m: Measurement }[]): string {
  return pageTable(
    [headline, ...columns.map((c) => c.setting)],
    [
      ['model', ...columns.map((c) => model(c.m.predictedMs))],
      ['measured', ...columns.map((c) => s3(c.m.totalMs))],
    ],
    [false, ...columns.map(() => true)],
  );
}

/** pool-sweep: every P, its model and its total. */
const poolSweep: PageTable = (results) =>
  sideways(
    'P',
    resultsFile(results, 'pool-sweep.json').measurements.map((m) => ({ setting: String(m.poolSize), m })),
  );

/** concurrency-sweep: the sync staircase and the flat async line. */
const concurrencySweep: PageTable = (results) => {
  const file = resultsFile<ConcurrencySweepResults>(results, json(CONCURRENCY_SWEEP.experiment));
  const rows = (kind: 'sync' | 'async', counts: number[]) =>
    counts.map((n) => {
      const m = measured(file, CONCURRENCY_SWEEP.burst(kind, n));
      return [kind, formatFigure(n, 'n0'), model(m.predictedMs), s3(m.totalMs), String(m.errors)];
    });
  return pageTable(
    ['endpoint', 'N', 'model', 'measured', 'errors'],
    [...rows('sync', file.params.syncRequests as number[]), ...rows('async', file.params.asyncRequests as number[])],
    [false, true, true, true, true],
  );
};

/** cpu-bound: each N on the loop and in the pool, beside their models, and the speed-up. */
const cpuBound: PageTable = (results) => {
  const file = resultsFile<CpuBoundResults>(results, json(CPU_BOUND.experiment));
  return pageTable(
    ['N', 'on the event loop', 'model', 'in the pool', 'model', 'speed-up'],
    (file.params.requests as number[]).map((n) => {
      const [loop, pool] = [measured(file, CPU_BOUND.burst('loop', n)), measured(file, CPU_BOUND.burst('pool', n))];
      const ms0 = (ms: number | null) => (ms === null ? '–' : formatFigure(ms, 'ms0'));
      return [
        String(n),
        ms0(loop.totalMs),
        ms0(loop.predictedMs),
        ms0(pool.totalMs),
        ms0(pool.predictedMs),
        formatFigure(loop.totalMs / pool.totalMs, 'x2'),
      ];
    }),
    [true, true, true, true, true, true],
  );
};

/** real-io: the sleep, the slow API and the database, each with its pool. */
const realIo: PageTable = (results) => {
  const file = resultsFile<RealIoResults>(results, json(REAL_IO.experiment));
  const rows: [string, string, Measurement][] = [
    ['the awaited sleep (`/asyncio-test`)', '∞: a timer holds nothing', measured(file, REAL_IO.sleep)],
    [
      'an awaited `fetch` of the slow API (`/upstream-test`)',
      `∞: fetch opened ${file.fetch.peakConnections} connections at once`,
      measured(file, REAL_IO.upstream),
    ],
    [
      '`SELECT pg_sleep(3)` (`/db-test`)',
      `${file.driverPoolSize}: node-postgres' default pool`,
      measured(file, REAL_IO.database),
    ],
  ];
  return pageTable(
    ['waiting on', 'its pool P', 'total', 'model'],
    rows.map(([what, pool, m]) => [what, pool, s3(m.totalMs), model(m.predictedMs)]),
    [false, false, true, true],
  );
};

/** database-pool: each pool size, and the two at and beyond PostgreSQL's limit, with their refusals. */
const databasePool: PageTable = (results) => {
  const file = resultsFile<DatabasePoolResults>(results, json(DATABASE_POOL.experiment));
  const limit = file.postgres.connectionLimit;
  const refused = (m: Measurement) => (m.expectedRefused !== undefined || m.errors > 0 ? `, ${m.errors} refused` : '');
  const predicted = (m: Measurement) => (m.expectedRefused ? `, ${m.expectedRefused} refused` : '');
  const columns = file.measurements.map((m) => {
    const setting =
      m.label === DATABASE_POOL.atLimit(limit)
        ? `${m.poolSize} (the limit)`
        : m.concurrency !== file.params.requests
          ? `${m.poolSize}, N = ${m.concurrency}`
          : String(m.poolSize);
    return { setting, m };
  });
  return pageTable(
    ['P', ...columns.map((c) => c.setting)],
    [
      ['model', ...columns.map(({ m }) => `${model(m.predictedMs)}${predicted(m)}`)],
      ['measured', ...columns.map(({ m }) => `${s3(m.totalMs)}${refused(m)}`)],
    ],
    [false, ...columns.map(() => true)],
  );
};

/** libuv-pool: 8 hashes at each UV_THREADPOOL_SIZE, the model from the hash's time and the cores, measured. */
const libuvPool: PageTable = (results) => {
  const file = resultsFile<LibuvPoolResults>(results, json(LIBUV_POOL.experiment));
  const columns = (file.params.threadpools as number[]).map((size) => ({
    setting: size === 4 ? '4 (default)' : String(size),
    m: measured(file, LIBUV_POOL.threadpool(size)),
  }));
  const priced = (m: Measurement) => file.work.inputs[m.label]?.modelAtBurstCpuMs;
  return pageTable(
    ['`UV_THREADPOOL_SIZE`', ...columns.map((c) => c.setting)],
    [
      [`model (threads and ${file.environment.cpus} cores)`, ...columns.map(({ m }) => s3(m.predictedMs!))],
      ["model at the burst's CPU per hash", ...columns.map(({ m }) => (priced(m) ? s3(priced(m)!) : '–'))],
      ['measured', ...columns.map(({ m }) => withRange(m))],
    ],
    [false, ...columns.map(() => true)],
  );
};

/** workers: each K, both servers' sync totals and every burst's split, beside the even split's model. */
const workers: PageTable = (results) => {
  const file = resultsFile<WorkersResults>(results, json(WORKERS.experiment));
  const servers = file.fastapiSkipped ? (['hono'] as const) : (['hono', 'fastapi'] as const);
  const name = { hono: 'Hono (`node:cluster`)', fastapi: 'FastAPI (`uvicorn --workers K`)' };
  // Each burst's split, and the model it implies: the busiest process's waves.
  const splits = (m: Measurement) =>
    (m.splits ?? []).map((s) => `${splitText(s.perWorker, { count: m.workers })} → ${model(s.predictedFromSplitMs)}`).join(', ');
  return pageTable(
    ['K', ...servers.flatMap((server) => [name[server], 'its splits → their model']), 'even-split model'],
    (file.params.workers as number[]).map((k) => {
      const bursts = servers.map((server) => measured(file, WORKERS.burst(server, 'sync', k)));
      return [String(k), ...bursts.flatMap((m) => [withRange(m), splits(m)]), model(bursts[0]!.predictedMs)];
    }),
    [true, ...servers.flatMap(() => [true, false]), true],
  );
};

/** workers: every process's memory after the bursts, by server and K. */
const workersMemory: PageTable = (results) => {
  const file = resultsFile<WorkersResults>(results, json(WORKERS.experiment));
  const name = { hono: 'Hono', fastapi: 'FastAPI (uvicorn)' };
  return pageTable(
    ['server', 'K', 'processes', 'memory, all processes'],
    file.memory.map((x) => [
      name[x.server as keyof typeof name] ?? x.server,
      String(x.workers),
      String(x.processes),
      formatFigure(x.rssBytes, x.rssBytes >= 2 ** 30 ? 'gib2' : 'mb0'),
    ]),
    [false, true, true, true],
  );
};

export const README_TABLES: Record<string, PageTable> = {
  blog,
  pools,
  'pool-sweep': poolSweep,
  'concurrency-sweep': concurrencySweep,
  'cpu-bound': cpuBound,
  'real-io': realIo,
  'database-pool': databasePool,
  'libuv-pool': libuvPool,
  workers,
  'workers-memory': workersMemory,
};
