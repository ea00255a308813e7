/**
 * The blog's FastAPI app, rebuilt on Hono.
 *
 *   npx tsx server.ts                   # like `uvicorn app:app --workers 1`: 127.0.0.1:8000, pool 40, delay 3 s
 *   npx tsx server.ts --help            # every setting, each with an environment twin
 *   curl localhost:8000/asyncio-test/1  # {"user":1,"status":"done"} after 3 s
 *
 * The routes come first, each only the kind of waiting it shows; what they stand on (settings, the pool, the
 * stats, FastAPI-shaped answers, start-up and shutdown) lives in server/, one job per module.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { Hono } from 'hono';
import { blogEndpoint, timed } from './server/endpoint.ts';
import { answerFailure, answerTheRestLikeFastApi, parseCursor, tagWithProcess } from './server/answers.ts';
import { startBlockingPool, type BlockingPool } from './server/pool.ts';
import { startStatsWindow, type StatsWindow } from './server/stats-window.ts';
import { createDatabase, type Database } from './server/database.ts';
import { createUpstream, type Upstream } from './server/upstream.ts';
import { startLibuvWork, type LibuvWork } from './server/libuv.ts';
import {
  isClusterWorker,
  runPrimary,
  reportReady,
  stopWhenThePrimaryAsks,
  groupAnswers,
  warmShare,
  withTheGroupsPort,
} from './server/cluster.ts';
import { localTaskChanges, TaskLog, type TaskChangesReader } from './server/task-log.ts';
import { RequestTiming } from './server/timing.ts';
import { settingsOrExit, stopOnSignals, listenOrExit, stopGracefully } from './server/lifecycle.ts';
import type { ServerSettings } from './server/settings.ts';
import { blockingSleep, cpuWork } from './server/pool-tasks.js';

/** What the routes stand on, each started (or not) from the settings. */
export interface Services {
  pool: BlockingPool;
  stats: StatsWindow;
  /** GET /stats/tasks: the pool's and the database's tasks, change by change. */
  tasks: TaskChangesReader;
  database: Database;
  upstream: Upstream;
  libuv: LibuvWork;
}

export function createApp(settings: ServerSettings, { pool, stats, tasks, database, upstream, libuv }: Services): Hono {
  const app = new Hono();
  const endpoint = blogEndpoint(settings.quiet); // FastAPI's `user_id: int`, START/END lines, the blog's body
  app.use(tagWithProcess, stats.noteArrivals); // X-Worker: <pid> on every answer; /stats notes arrivals

  // ── The blog's two endpoints ──

  // `async def` + `await asyncio.sleep(3)`: awaits a timer on the event loop and holds no thread.
  app.get('/asyncio-test/:user_id', endpoint(timed('timer', () => sleep(settings.delayMs))));

  // `def` + `time.sleep(3)`: blocks a thread. Node has no automatic pool for blocking handlers (on the event
  // loop it would freeze every other request), so it goes to a tinypool pool of 40, FastAPI's number. The
  // blocking sleep stands in for a blocking library you cannot avoid: to wait, a Node server awaits.
  app.get(
    '/sync-test/:user_id',
    endpoint((request) => pool.blockingSleep(settings.delayMs, request)),
  );

  // ── Experiments beyond the blog ──

  // The same blocking sleep with no pool, on the event loop itself: every other request waits behind it.
  app.get('/blocking-loop-test/:user_id', endpoint(timed('loop-block', () => void blockingSleep(settings.delayMs))));

  // A fixed amount of real CPU work, on the event loop and in the pool. Worker threads run JavaScript in
  // parallel (there is no GIL), so the pool's speed-up is bounded by the cores, not by the pool size.
  app.get('/cpu-loop-test/:user_id', endpoint(timed('loop-cpu', () => ({ hash: cpuWork(settings.cpuIterations) }))));
  app.get(
    '/cpu-pool-test/:user_id',
    endpoint((request) => pool.cpuWork(settings.cpuIterations, request)),
  );

  // ── Real I/O: the blog's "API calls, DB queries … are handled the same way" ──

  // A call to a slow API (another server.ts whose /asyncio-test takes D): fetch waits on the event loop.
  app.get('/upstream-test/:user_id', endpoint(timed('upstream', ({ userId, clientGone }) => upstream.call(userId, clientGone))));

  // A real query, SELECT pg_sleep(D): it waits for one of node-postgres' pooled connections (10 by default),
  // then for PostgreSQL. The pool, not the event loop, sets the waves.
  app.get(
    '/db-test/:user_id',
    endpoint((request) => database.sleep(settings.delayMs, request)),
  );

  // ── Node's own hidden pool: libuv's threadpool, 4 threads unless UV_THREADPOOL_SIZE says otherwise ──

  // An async password hash: it leaves the event loop free, but holds one of libuv's threads while it runs.
  app.get('/hash-test/:user_id', endpoint(timed('libuv', () => libuv.hash(settings.hashIterations))));
  // The same hash as pbkdf2Sync in a tinypool thread: libuv's threads stay free for everything else.
  app.get(
    '/hash-pool-test/:user_id',
    endpoint((request) => pool.hash(settings.hashIterations, request)),
  );
  // One small async file read, one task on libuv's threadpool: it waits behind whatever holds those threads.
  app.get('/file-test/:user_id', endpoint(timed('libuv', () => libuv.readFile())));

  // Only with --fifo-dir: opening a FIFO there blocks one of those threads, burning no CPU, until a writer opens it
  // (the script that made them lets the readers go wave by wave): the pool's size as waves, whatever the cores.
  app.get('/fifo-test/:user_id', endpoint(timed('libuv', () => libuv.openFifo())));

  // ── Operations ──

  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/stats', async (c) => c.json(await stats.read()));
  app.post('/stats/reset', async (c) => {
    libuv.rewindFifos(); // a new window's k-th /fifo-test opens FIFO k
    return c.json(await stats.reset());
  });
  app.get('/stats/tasks', async (c) => {
    const since = parseCursor(c);
    return since instanceof Response ? since : c.json(await tasks.read(since));
  });

  // Only with --fault-routes: a pool task that throws, or whose thread dies, must cost that request a 500 and
  // nothing more. No client can reach these on a server started without the flag.
  if (settings.faultRoutes) {
    app.get('/fault-test/:fault{throw|exit}', async (c) => {
      const task = c.req.param('fault') === 'throw' ? 'throwInThread' : 'exitThread';
      const failure = await pool.run<null>(task, null, { clientGone: c.req.raw.signal, timing: new RequestTiming() });
      if (failure) return answerFailure(c, failure);
      return c.json({ status: 'done' });
    });
  }

  answerTheRestLikeFastApi(app); // 404 and 405 with FastAPI's bodies, 500 for a route that throws
  return app;
}

// ─── Start-up ───────────────────────────────────────────────────────────────────────────────────────────────

export async function main(argv = process.argv.slice(2), env = process.env): Promise<void> {
  const settings = withTheGroupsPort(settingsOrExit(argv, env));
  // --workers K: this process only starts, watches and stops K workers; each of them runs what follows.
  if (settings.workers > 1 && !isClusterWorker()) return runPrimary(settings);
  const shutdown = stopOnSignals(settings.quiet);
  // Every thread warm, every database connection open, before the ready line: no burst pays for a cold start.
  const log = new TaskLog(settings.taskLogSize); // one record per task of the pool and of the database
  const pool = await startBlockingPool(settings.poolSize, settings.queueLimit, log);
  const database = createDatabase(settings.databaseUrl, settings.dbPoolSize, settings.dbConnectTimeoutMs, {
    log,
    cancelOnHangUp: settings.dbCancel,
    timeoutMs: settings.dbTimeoutMs,
  });
  const db = await database.warm(isClusterWorker() ? warmShare() : null);
  if (db.failure)
    console.warn(`warning: opened ${db.open} of ${db.poolSize} database connections (${db.failure}); /db-test may answer 503.`);
  const libuv = await startLibuvWork(settings.fifoDir);
  const local = startStatsWindow({ pool, database, delayMs: settings.delayMs });
  // With --workers K, /stats and /stats/tasks speak for all K.
  const { stats, tasks } = isClusterWorker() ? groupAnswers(local, log) : { stats: local, tasks: localTaskChanges(log) };
  const services = { pool, database, libuv, stats, tasks, upstream: createUpstream(settings.upstreamUrl) };
  // Queries still running get a moment to finish; the process is about to exit anyway.
  const endWork = () =>
    Promise.all([pool.destroy(), Promise.race([database.close(), sleep(1000)]), libuv.close()]).then(() => {});
  const { server, url } = await listenOrExit(createApp(settings, services).fetch, settings, endWork);
  local.watchConnections(server);
  shutdown.drainWith(() => stopGracefully(server, settings.shutdownGraceMs, endWork));
  local.reset(); // the warm-up is not part of any measurement
  const warmUpMs = pool.stats().poolWarmUpMs;
  if (isClusterWorker()) {
    stopWhenThePrimaryAsks(shutdown.stop);
    return reportReady(url, warmUpMs, db); // the primary prints the one ready line, once every worker is warm
  }
  console.log(
    `listening on ${url} (pool ${settings.poolSize} threads warm in ${Math.round(warmUpMs)} ms, delay ${settings.delayMs} ms, queue ${settings.queueLimit})`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
}
