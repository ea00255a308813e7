/**
 * The blog's FastAPI app, rebuilt on Hono.
 *
 *   npx tsx server.ts                   # like `uvicorn app:app --workers 1`: 127.0.0.1:8000, pool 40, delay 3 s
 *   npx tsx server.ts --help            # every setting, each with an environment twin
 *   curl localhost:8000/asyncio-test/1  # {"user":1,"status":"done"} after 3 s
 *
 * Two endpoints that wait 3 s each:
 *   /asyncio-test/:user_id  awaits a timer on the event loop (FastAPI's `async def` + `await asyncio.sleep`)
 *   /sync-test/:user_id     blocks a thread for 3 s (FastAPI's `def` + `time.sleep`). Node has no automatic pool
 *                           for blocking handlers: run on the event loop it would freeze every other request, so
 *                           it is sent to a tinypool worker-thread pool of 40, as FastAPI sends `def` endpoints
 *                           to anyio's pool of 40.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isIP } from 'node:net';
import { createServer, STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { Hono, type Context } from 'hono';
import { getRequestListener, RequestError } from '@hono/node-server';
import Tinypool from 'tinypool';
import { blockingSleep, cpuWork } from './pool-tasks.js';
import { sampleLoopDelay, type LoopDelaySummary } from './server/loop-delay.ts';

// ─── The routes ────────────────────────────────────────────────────────────────────────────────────────────

export function createApp(settings: ServerSettings, pool: BlockingPool): Hono {
  const app = new Hono();
  const log = requestLogger(settings.quiet);

  app.get('/asyncio-test/:user_id', async (c) => {
    const userId = parseUserId(c);
    if (typeof userId !== 'number') return userId;
    log('START', c.req.path);
    await sleep(settings.delayMs);
    log('END', c.req.path);
    return c.json({ user: userId, status: 'done' });
  });

  app.get('/sync-test/:user_id', async (c) => {
    const userId = parseUserId(c);
    if (typeof userId !== 'number') return userId;
    log('START', c.req.path);
    const failure = await pool.blockingSleep(settings.delayMs, c.req.raw.signal);
    if (failure) return answerFailure(c, failure);
    log('END', c.req.path);
    return c.json({ user: userId, status: 'done' });
  });

  // ── Experiments beyond the blog ──

  // The same blocking sleep with no pool, on the event loop itself: every other request waits behind it.
  app.get('/blocking-loop-test/:user_id', (c) => {
    const userId = parseUserId(c);
    if (typeof userId !== 'number') return userId;
    log('START', c.req.path);
    blockingSleep(settings.delayMs);
    log('END', c.req.path);
    return c.json({ user: userId, status: 'done' });
  });

  // A fixed amount of real CPU work, on the event loop and in the pool. Worker threads run JavaScript in
  // parallel (there is no GIL), so the pool's speed-up is bounded by the cores, not by the pool size.
  app.get('/cpu-loop-test/:user_id', (c) => {
    const userId = parseUserId(c);
    if (typeof userId !== 'number') return userId;
    log('START', c.req.path);
    const hash = cpuWork(settings.cpuIterations);
    log('END', c.req.path);
    return c.json({ user: userId, status: 'done', hash });
  });

  app.get('/cpu-pool-test/:user_id', async (c) => {
    const userId = parseUserId(c);
    if (typeof userId !== 'number') return userId;
    log('START', c.req.path);
    const outcome = await pool.cpuWork(settings.cpuIterations, c.req.raw.signal);
    if (typeof outcome !== 'number') return answerFailure(c, outcome);
    log('END', c.req.path);
    return c.json({ user: userId, status: 'done', hash: outcome });
  });

  // ── Operations ──

  app.get('/health', (c) => c.json({ status: 'ok' }));

  app.get('/stats', (c) => c.json(pool.stats()));
  app.post('/stats/reset', (c) => c.json(pool.resetStats()));

  // Only with --fault-routes: a pool task that throws, or whose thread dies, must cost that request a 500 and
  // nothing more. No client can reach these on a server started without the flag.
  if (settings.faultRoutes) {
    app.get('/fault-test/:fault{throw|exit}', async (c) => {
      const task = c.req.param('fault') === 'throw' ? 'throwInThread' : 'exitThread';
      const failure = await pool.run<null>(task, null, c.req.raw.signal);
      if (failure) return answerFailure(c, failure);
      return c.json({ status: 'done' });
    });
  }

  app.notFound((c) => c.json({ detail: 'Not Found' }, 404));
  answerOtherMethodsWith405(app);
  app.onError((error, c) => {
    console.error(error);
    return c.json({ detail: 'Internal Server Error' }, 500);
  });
  return app;
}

// ─── Settings: flags, each with an environment twin ─────────────────────────────────────────────────────────

export interface ServerSettings {
  host: string;
  port: number;
  /** Threads in the pool. */
  poolSize: number;
  /** How long each endpoint waits, in ms. */
  delayMs: number;
  /** Blocking tasks that may wait for a free thread; beyond it the server answers 503. */
  queueLimit: number;
  /** Iterations of the CPU-bound experiment's hash loop (~7 ns each on a 2020s server core). */
  cpuIterations: number;
  /** After SIGINT/SIGTERM, how long in-flight requests may go on before their tasks are ended. */
  shutdownGraceMs: number;
  /** No START/END line per request. */
  quiet: boolean;
  /** Adds /fault-test/throw and /fault-test/exit, pool tasks that fail on purpose. Off unless asked for. */
  faultRoutes: boolean;
}

export const DEFAULT_SETTINGS: ServerSettings = {
  host: '127.0.0.1',
  port: 8000,
  // 40 is FastAPI's number, not ours: FastAPI runs every `def` endpoint through
  // starlette.concurrency.run_in_threadpool → anyio.to_thread.run_sync, whose default limiter is
  // CapacityLimiter(40). That limit, not Python's ThreadPoolExecutor default, is why the blog's
  // 100 sync requests take 3 waves (40 + 40 + 20) = 9 s.
  poolSize: 40,
  delayMs: 3000,
  // Enough for the blog's bursts and the sweeps (N ≤ 200 sync) with room to spare; a burst beyond it is
  // answered 503 at once, like uvicorn's --limit-concurrency, instead of growing memory without bound.
  queueLimit: 1000,
  // About 200 ms of work on this project's 2-core test machine; scripts/cpu-bound.ts calibrates its own.
  cpuIterations: 30_000_000,
  // uvicorn waits for in-flight requests (--timeout-graceful-shutdown); a blocked thread cannot be told to
  // hurry, so after this long its task is ended and its request answered 503.
  shutdownGraceMs: 2000,
  quiet: false,
  faultRoutes: false,
};

const USAGE = `Usage: npx tsx server.ts [options]

  --host HOST        address to bind (env HOST, default ${DEFAULT_SETTINGS.host})
  --port PORT        port, 0 = any free port (env PORT, default ${DEFAULT_SETTINGS.port})
  --pool N           worker threads for /sync-test (env POOL_SIZE, default ${DEFAULT_SETTINGS.poolSize}, FastAPI's limit)
  --delay-ms MS      how long each endpoint waits (env DELAY_MS, default ${DEFAULT_SETTINGS.delayMs})
  --queue N          blocking tasks allowed to wait for a thread; beyond it 503 (env QUEUE_LIMIT, default ${DEFAULT_SETTINGS.queueLimit})
  --cpu-iterations N work per /cpu-*-test request (env CPU_ITERATIONS, default ${DEFAULT_SETTINGS.cpuIterations})
  --shutdown-grace-ms MS  after SIGINT/SIGTERM, how long in-flight requests may finish (env SHUTDOWN_GRACE_MS, default ${DEFAULT_SETTINGS.shutdownGraceMs})
  --quiet            no START/END line per request (env QUIET=1)
  --fault-routes     add /fault-test/throw and /fault-test/exit, for tests (env FAULT_ROUTES=1)
  -h, --help         this text

Prints "listening on http://HOST:PORT" once it listens and every pool thread is warm.`;

/** Thrown for a setting the user got wrong: the message is one sentence meant for them. */
export class SettingsError extends Error {}

const INTEGER_SETTINGS = {
  port: { flag: 'port', env: 'PORT', min: 0, max: 65535 },
  poolSize: { flag: 'pool', env: 'POOL_SIZE', min: 1, max: 1024 },
  delayMs: { flag: 'delay-ms', env: 'DELAY_MS', min: 0, max: 3_600_000 },
  queueLimit: { flag: 'queue', env: 'QUEUE_LIMIT', min: 0, max: 1_000_000 },
  cpuIterations: { flag: 'cpu-iterations', env: 'CPU_ITERATIONS', min: 1, max: 100_000_000_000 },
  shutdownGraceMs: { flag: 'shutdown-grace-ms', env: 'SHUTDOWN_GRACE_MS', min: 0, max: 600_000 },
} as const;

/** Flags win over environment variables, which win over the defaults. Returns null when --help was asked. */
export function parseServerSettings(argv: string[], env: NodeJS.ProcessEnv = {}): ServerSettings | null {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        pool: { type: 'string' },
        'delay-ms': { type: 'string' },
        queue: { type: 'string' },
        'cpu-iterations': { type: 'string' },
        'shutdown-grace-ms': { type: 'string' },
        quiet: { type: 'boolean' },
        'fault-routes': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new SettingsError(`${(error as Error).message.replace(/\. To specify.*$/s, '')}. See --help.`);
  }
  if (values.help) return null;

  const settings = { ...DEFAULT_SETTINGS };
  for (const [key, spec] of Object.entries(INTEGER_SETTINGS)) {
    const flagValue = values[spec.flag];
    const raw = flagValue ?? env[spec.env];
    if (raw === undefined || raw === '') continue;
    const source = flagValue !== undefined ? `--${spec.flag}` : spec.env;
    settings[key as keyof typeof INTEGER_SETTINGS] = parseIntegerSetting(source, raw, spec.min, spec.max);
  }
  const host = values.host ?? env.HOST;
  if (host !== undefined) {
    if (host.trim() === '') throw new SettingsError('--host must not be empty.');
    settings.host = host;
  }
  settings.quiet = values.quiet ?? isSet(env.QUIET);
  settings.faultRoutes = values['fault-routes'] ?? isSet(env.FAULT_ROUTES);
  return settings;
}

function isSet(envValue: string | undefined): boolean {
  return ['1', 'true', 'yes'].includes(envValue ?? '');
}

function parseIntegerSetting(source: string, raw: string, min: number, max: number): number {
  const value = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new SettingsError(`${source} must be a whole number from ${min} to ${max}, got "${raw}".`);
  }
  return value;
}

// ─── The pool ───────────────────────────────────────────────────────────────────────────────────────────────

/** What the route answers when a blocking task did not run to its end. */
export interface TaskFailure {
  status: 500 | 503;
  detail: string;
  headers?: Record<string, string>;
}

/** The functions of pool-tasks.js a request may run. */
export type PoolTask = 'blockingSleep' | 'cpuWork' | 'throwInThread' | 'exitThread';

export interface BlockingPool {
  /** Resolves with undefined when the sleep ran, or with what to answer instead. */
  blockingSleep(ms: number, clientGone: AbortSignal): Promise<TaskFailure | undefined>;
  /** Resolves with the work's hash, or with what to answer instead. */
  cpuWork(iterations: number, clientGone: AbortSignal): Promise<number | TaskFailure>;
  /** Any task of pool-tasks.js, with the same queue limit, cancellation and failure answers. */
  run<T>(task: PoolTask, input: unknown, clientGone: AbortSignal): Promise<T | TaskFailure>;
  stats(): ServerStats;
  /** Returns the stats of the window it closes, then starts a new one. */
  resetStats(): ServerStats;
  destroy(): Promise<void>;
}

export interface ServerStats {
  poolSize: number;
  threadsAlive: number;
  /** Blocking tasks running on a thread right now. */
  activeTasks: number;
  /** Blocking tasks waiting for a free thread. */
  queuedTasks: number;
  queueLimit: number;
  /** Blocking tasks finished since the server started (run to the end). */
  completed: number;
  /** Answered 503 because the queue was full. */
  rejected: number;
  /** Removed from the queue or stopped mid-sleep because their client went away. */
  cancelled: number;
  /** Thrown inside a thread, or the thread died. */
  failed: number;
  /** How long starting and warming every pool thread took, before the ready line, in ms. */
  poolWarmUpMs: number;
  /** How late the event loop ran a 10 ms timer since the last reset, in ms: how long it was busy beyond it. */
  eventLoopDelayMs: LoopDelaySummary;
  windowMs: number;
  rssBytes: number;
  uptimeMs: number;
}

const LOOP_DELAY_INTERVAL_MS = 10;
/** The answer beyond the queue limit, as uvicorn's --limit-concurrency gives it: at once, come back later. */
const QUEUE_FULL: TaskFailure = { status: 503, detail: 'Service Unavailable: the pool queue is full', headers: { 'Retry-After': '1' } };
const TASKS_FILE = new URL('./pool-tasks.js', import.meta.url).href;

/** Starts `size` threads and returns once every one of them has run a task (warm), never before. */
export async function startBlockingPool(size: number, queueLimit: number): Promise<BlockingPool> {
  const warmUpStart = performance.now();
  const pool = new Tinypool({
    filename: TASKS_FILE,
    // Pinned: tinypool would otherwise size the pool by CPU count and end idle threads at once.
    minThreads: size,
    maxThreads: size,
    idleTimeout: Infinity,
    maxQueue: Math.max(queueLimit, 1),
    // Threads would inherit tsx's loader flags from this process; they run plain JS and need none.
    execArgv: [],
    // Without a cap each thread's V8 heap is sized from the machine's memory (≈4 GB here), and at a limit
    // of 2 GB or more every thread holds ≈0.75 MB more: 30 MB over 40 threads (measured: 390 vs 360 MB
    // warm). No task here comes near 256 MB; a runaway one now ends its own thread, not the machine.
    resourceLimits: { maxOldGenerationSizeMb: 256 },
  });
  // tinypool emits 'error' when a thread dies with no task on it; unheard, that would take the server down.
  pool.on('error', (error: Error) => console.error(`pool thread failed: ${error.message}`));

  // Each warm-up task waits for all the others, so `size` of them occupy `size` distinct threads.
  const arrivals = new SharedArrayBuffer(4);
  const warm = await Promise.all(
    Array.from({ length: size }, () =>
      pool.run({ arrivals, parties: size, timeoutMs: 60_000 }, { name: 'warmUpBarrier' }),
    ),
  );
  if (!warm.every(Boolean)) throw new Error('The pool threads did not all start within 60 s.');
  const watchNewThreads = failTasksOfExitedThreads(pool);
  watchNewThreads();
  const poolWarmUpMs = round(performance.now() - warmUpStart);

  const startedAt = performance.now();
  const loopDelay = sampleLoopDelay(LOOP_DELAY_INTERVAL_MS);
  let windowStart = performance.now();
  let inFlight = 0;
  const counts = { rejected: 0, cancelled: 0, failed: 0, completed: 0 };

  const stats = (): ServerStats => {
    const queuedTasks = pool.queueSize;
    return {
      poolSize: size,
      threadsAlive: pool.threads.length,
      activeTasks: inFlight - queuedTasks,
      queuedTasks,
      queueLimit,
      ...counts,
      poolWarmUpMs,
      eventLoopDelayMs: loopDelay.window.summary(),
      windowMs: round(performance.now() - windowStart),
      rssBytes: process.memoryUsage.rss(),
      uptimeMs: round(performance.now() - startedAt),
    };
  };

  /** Runs one task of pool-tasks.js on a pool thread; a failure becomes the answer to send instead. */
  async function run<T>(task: PoolTask, input: unknown, clientGone: AbortSignal): Promise<T | TaskFailure> {
    // A full queue is answered at once; the client may come back later.
    if (inFlight - size >= queueLimit) {
      counts.rejected++;
      return QUEUE_FULL;
    }
    inFlight++;
    try {
      const result = (await pool.run(input, { name: task, signal: clientGone })) as T;
      counts.completed++;
      return result;
    } catch (error) {
      // The client went away: tinypool dropped the queued task or ended its thread. Nobody reads the answer.
      if (clientGone.aborted) {
        counts.cancelled++;
        return { status: 503, detail: 'Client disconnected' };
      }
      if (/queue is at limit/i.test(String(error))) {
        counts.rejected++;
        return QUEUE_FULL;
      }
      if (/Terminating worker thread/.test(String(error))) {
        return { status: 503, detail: 'Service Unavailable: the server is shutting down' };
      }
      counts.failed++;
      console.error(`blocking task failed: ${(error as Error).message}`);
      return { status: 500, detail: 'Internal Server Error: the blocking task failed' };
    } finally {
      inFlight--;
      // A task that was aborted or failed had its thread replaced: watch the new one too.
      watchNewThreads();
    }
  }

  return {
    async blockingSleep(ms, clientGone) {
      const outcome = await run<number>('blockingSleep', ms, clientGone);
      return typeof outcome === 'number' ? undefined : outcome;
    },
    cpuWork: (iterations, clientGone) => run<number>('cpuWork', iterations, clientGone),
    run,
    stats,
    resetStats() {
      const closed = stats();
      loopDelay.window.reset();
      windowStart = performance.now();
      return closed;
    },
    async destroy() {
      loopDelay.stop();
      await pool.destroy();
    },
  };
}

/**
 * Guards against tinypool's known hang: a thread that exits mid-task (process.exit() in the task, a native
 * crash) leaves that task's run() unsettled forever and the dead thread counted in the pool. tinypool's own
 * child_process runtime turns an unexpected exit into an 'error' on the worker, which fails the task and
 * starts a replacement; this does the same for threads. A thread tinypool ended itself (abort, destroy, after
 * an error) has left pool.threads before it exits, so it is left alone. Returns a function that starts
 * watching threads added since the last call.
 */
function failTasksOfExitedThreads(pool: Tinypool): () => void {
  const watched = new WeakSet<object>();
  return () => {
    for (const thread of pool.threads) {
      if (watched.has(thread)) continue;
      watched.add(thread);
      thread.once('exit', (code: number) => {
        if (pool.threads.includes(thread)) thread.emit('error', new Error(`pool thread exited with code ${code} mid-task`));
      });
    }
  };
}

// ─── Small helpers for the routes ───────────────────────────────────────────────────────────────────────────

/** FastAPI's `user_id: int`: an integer, or a 422 with the body FastAPI (pydantic v2) sends. */
function parseUserId(c: Context): number | Response {
  const input = c.req.param('user_id') ?? '';
  const loc = ['path', 'user_id'];
  if (!/^[+-]?\d+$/.test(input)) {
    const msg = 'Input should be a valid integer, unable to parse string as an integer';
    return c.json({ detail: [{ type: 'int_parsing', loc, msg, input }] }, 422);
  }
  const value = Number(input);
  // JSON numbers beyond 2^53 would be answered rounded; refuse them instead of echoing a different user.
  if (!Number.isSafeInteger(value)) {
    const le = Number.MAX_SAFE_INTEGER;
    const [type, msg, ctx] =
      value > 0
        ? ['less_than_equal', `Input should be less than or equal to ${le}`, { le }]
        : ['greater_than_equal', `Input should be greater than or equal to ${-le}`, { ge: -le }];
    return c.json({ detail: [{ type, loc, msg, input, ctx }] }, 422);
  }
  return value === 0 ? 0 : value; // no -0 in the body
}

/** A pool task that did not run to its end, answered in FastAPI's shape. */
function answerFailure(c: Context, failure: TaskFailure): Response {
  return c.json({ detail: failure.detail }, failure.status, failure.headers);
}

/** Hono answers 404 for a known path with another method; FastAPI answers 405 with Allow. So do we. */
function answerOtherMethodsWith405(app: Hono): void {
  const methodsByPath = new Map<string, string[]>();
  for (const route of app.routes) {
    methodsByPath.set(route.path, [...(methodsByPath.get(route.path) ?? []), route.method]);
  }
  for (const [path, methods] of methodsByPath) {
    app.all(path, (c) => c.json({ detail: 'Method Not Allowed' }, 405, { Allow: methods.join(', ') }));
  }
}

/** A request Hono cannot turn into a URL (no Host header, `OPTIONS *`, a bad Host): 400 in FastAPI's shape. */
function answerUnroutableRequest(error: unknown): Response {
  const status = error instanceof RequestError ? 400 : 500;
  if (status === 500) console.error(error);
  return new Response(JSON.stringify({ detail: STATUS_CODES[status] }), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

/**
 * Bytes node:http cannot parse as a request (a malformed header, an unknown method, an over-long URL or header,
 * raw garbage) never reach Hono, and Node would answer a bare 400. Same statuses as Node, FastAPI's shape.
 */
function answerUnparsableRequest(error: NodeJS.ErrnoException, socket: Duplex): void {
  // Node's own rule: write nothing if the client is gone or a response has already begun on this connection.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const status =
    error.code === 'HPE_HEADER_OVERFLOW' ? 431
    : error.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW' ? 413
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408
    : 400;
  const body = JSON.stringify({ detail: STATUS_CODES[status] });
  const head = `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}`;
  socket.end(`${head}\r\nConnection: close\r\n\r\n${body}`, () => socket.destroy());
}

/** The blog's app prints a line with the time when each request starts and ends. */
function requestLogger(quiet: boolean) {
  return (event: 'START' | 'END', path: string) => {
    if (!quiet) console.log(`${new Date().toISOString()} ${event.padEnd(5)} ${path}`);
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

// ─── Running it ─────────────────────────────────────────────────────────────────────────────────────────────

export async function main(argv = process.argv.slice(2), env = process.env): Promise<void> {
  let settings;
  try {
    settings = parseServerSettings(argv, env);
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    console.error(`server.ts: ${error.message}`);
    process.exit(2);
  }
  if (settings === null) {
    console.log(USAGE);
    return;
  }
  if (!isLoopback(settings.host)) {
    console.warn(
      `warning: binding ${settings.host}, not loopback: any client that reaches it can tie up the ` +
        `${settings.poolSize} pool threads with /sync-test requests.`,
    );
  }

  // From here on SIGINT/SIGTERM and a vanished parent stop the server, also while the pool warms up: a signal
  // that came before the handlers would kill it without a word, and a parent gone before then would never
  // be noticed. Before the ready line there is nothing to drain, so it just exits.
  let running: { server: Server; pool: BlockingPool } | null = null;
  let stopping = false;
  const shutdown = async (why: string, exitCodeIfRepeated: number) => {
    if (stopping) process.exit(exitCodeIfRepeated); // a second signal: at once
    stopping = true;
    if (!settings.quiet) console.log(`${why}: shutting down`);
    if (running) await stopGracefully(running.server, running.pool, settings.shutdownGraceMs);
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT', 130));
  process.on('SIGTERM', () => void shutdown('SIGTERM', 143));
  // Started by a script with an IPC channel: if that script dies, even by SIGKILL, we go with it.
  if (process.channel) {
    process.on('disconnect', () => void shutdown('parent gone', 1));
    process.channel.unref();
    if (!process.connected) void shutdown('parent gone', 1);
  }

  const pool = await startBlockingPool(settings.poolSize, settings.queueLimit);
  const server = createServer(
    // Node would answer an HTTP/1.1 request without Host with an empty 400; Hono's error handler gives it a body.
    { requireHostHeader: false },
    getRequestListener(createApp(settings, pool).fetch, { errorHandler: answerUnroutableRequest }),
  );
  server.on('clientError', answerUnparsableRequest);

  try {
    await listen(server, settings);
  } catch (error) {
    await pool.destroy();
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'EADDRINUSE' ? 'is already in use' : code === 'EACCES' ? 'needs privileges' : `failed (${code})`;
    console.error(`server.ts: ${settings.host}:${settings.port} ${reason}; pick another with --port (0 = any free port).`);
    process.exit(2);
  }
  running = { server, pool };
  const { port } = server.address() as { port: number };
  const url = `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}`;
  pool.resetStats(); // the warm-up is not part of any measurement
  console.log(
    `listening on ${url} (pool ${settings.poolSize} threads warm in ${Math.round(pool.stats().poolWarmUpMs)} ms, ` +
      `delay ${settings.delayMs} ms, queue ${settings.queueLimit})`,
  );
}

/**
 * Shutdown as uvicorn does it: stop accepting, give in-flight requests a moment to finish, then answer the
 * rest 503 (their threads are ended), destroy the pool, and close whatever connection is still open.
 */
async function stopGracefully(server: Server, pool: BlockingPool, graceMs: number): Promise<void> {
  const drained = new Promise<void>((resolve) => server.close(() => resolve()));
  await Promise.race([drained, sleep(graceMs)]);
  await pool.destroy();
  // The ended tasks' 503s are on their way; a connection still open after that (an awaited timer) is cut.
  await Promise.race([drained, sleep(500)]);
  server.closeAllConnections();
}

function listen(server: Server, settings: ServerSettings): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // A large backlog so a burst of thousands of connections is not dropped by the kernel.
    server.listen({ host: settings.host, port: settings.port, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
}
