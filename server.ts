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
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { isIP } from 'node:net';
import type { Server } from 'node:http';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { Hono, type Context } from 'hono';
import { createAdaptorServer } from '@hono/node-server';
import Tinypool from 'tinypool';

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
    if (failure) return c.json({ detail: failure.detail }, failure.status, failure.headers);
    log('END', c.req.path);
    return c.json({ user: userId, status: 'done' });
  });

  app.get('/health', (c) => c.json({ status: 'ok' }));

  app.get('/stats', (c) => c.json(pool.stats()));
  app.post('/stats/reset', (c) => c.json(pool.resetStats()));

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
  /** No START/END line per request. */
  quiet: boolean;
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
  quiet: false,
};

const USAGE = `Usage: npx tsx server.ts [options]

  --host HOST        address to bind (env HOST, default ${DEFAULT_SETTINGS.host})
  --port PORT        port, 0 = any free port (env PORT, default ${DEFAULT_SETTINGS.port})
  --pool N           worker threads for /sync-test (env POOL_SIZE, default ${DEFAULT_SETTINGS.poolSize}, FastAPI's limit)
  --delay-ms MS      how long each endpoint waits (env DELAY_MS, default ${DEFAULT_SETTINGS.delayMs})
  --queue N          blocking tasks allowed to wait for a thread; beyond it 503 (env QUEUE_LIMIT, default ${DEFAULT_SETTINGS.queueLimit})
  --quiet            no START/END line per request (env QUIET=1)
  -h, --help         this text

Prints "listening on http://HOST:PORT" once it listens and every pool thread is warm.`;

/** Thrown for a setting the user got wrong: the message is one sentence meant for them. */
export class SettingsError extends Error {}

const INTEGER_SETTINGS = {
  port: { flag: 'port', env: 'PORT', min: 0, max: 65535 },
  poolSize: { flag: 'pool', env: 'POOL_SIZE', min: 1, max: 1024 },
  delayMs: { flag: 'delay-ms', env: 'DELAY_MS', min: 0, max: 3_600_000 },
  queueLimit: { flag: 'queue', env: 'QUEUE_LIMIT', min: 0, max: 1_000_000 },
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
        quiet: { type: 'boolean' },
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
  settings.quiet = values.quiet ?? ['1', 'true', 'yes'].includes(env.QUIET ?? '');
  return settings;
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

export interface BlockingPool {
  /** Resolves with undefined when the sleep ran, or with what to answer instead. */
  blockingSleep(ms: number, clientGone: AbortSignal): Promise<TaskFailure | undefined>;
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
  /** How late the event loop ran its timers since the last reset, in ms (perf_hooks, 10 ms resolution). */
  eventLoopDelayMs: { min: number; mean: number; p50: number; p99: number; max: number };
  windowMs: number;
  rssBytes: number;
  uptimeMs: number;
}

const LOOP_DELAY_RESOLUTION_MS = 10;
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

  // Each warm-up task waits for all the others, so `size` of them occupy `size` distinct threads.
  const arrivals = new SharedArrayBuffer(4);
  const warm = await Promise.all(
    Array.from({ length: size }, () =>
      pool.run({ arrivals, parties: size, timeoutMs: 60_000 }, { name: 'warmUpBarrier' }),
    ),
  );
  if (!warm.every(Boolean)) throw new Error('The pool threads did not all start within 60 s.');
  const poolWarmUpMs = round(performance.now() - warmUpStart);

  const startedAt = performance.now();
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  loopDelay.enable();
  let windowStart = performance.now();
  let inFlight = 0;
  const counts = { rejected: 0, cancelled: 0, failed: 0, completed: 0 };

  const stats = (): ServerStats => {
    const queuedTasks = pool.queueSize;
    // The histogram records each 10 ms tick's whole interval; what was late is the part beyond the tick.
    const ms = (ns: number) =>
      Number.isFinite(ns) && loopDelay.count > 0 ? round(Math.max(0, ns / 1e6 - LOOP_DELAY_RESOLUTION_MS)) : 0;
    return {
      poolSize: size,
      threadsAlive: pool.threads.length,
      activeTasks: inFlight - queuedTasks,
      queuedTasks,
      queueLimit,
      ...counts,
      poolWarmUpMs,
      eventLoopDelayMs: {
        min: ms(loopDelay.min),
        mean: ms(loopDelay.mean),
        p50: ms(loopDelay.percentile(50)),
        p99: ms(loopDelay.percentile(99)),
        max: ms(loopDelay.max),
      },
      windowMs: round(performance.now() - windowStart),
      rssBytes: process.memoryUsage.rss(),
      uptimeMs: round(performance.now() - startedAt),
    };
  };

  return {
    async blockingSleep(ms, clientGone) {
      // A full queue is answered at once; the client may come back later.
      if (inFlight - size >= queueLimit) {
        counts.rejected++;
        return { status: 503, detail: 'Service Unavailable: the pool queue is full', headers: { 'Retry-After': '1' } };
      }
      inFlight++;
      try {
        await pool.run(ms, { name: 'blockingSleep', signal: clientGone });
        counts.completed++;
        return undefined;
      } catch (error) {
        // The client went away: tinypool dropped the queued task or ended its thread. Nobody reads the answer.
        if (clientGone.aborted) {
          counts.cancelled++;
          return { status: 503, detail: 'Client disconnected' };
        }
        if (/queue is at limit/i.test(String(error))) {
          counts.rejected++;
          return { status: 503, detail: 'Service Unavailable: the pool queue is full', headers: { 'Retry-After': '1' } };
        }
        if (/Terminating worker thread/.test(String(error))) {
          return { status: 503, detail: 'Service Unavailable: the server is shutting down' };
        }
        counts.failed++;
        console.error(`blocking task failed: ${(error as Error).message}`);
        return { status: 500, detail: 'Internal Server Error: the blocking task failed' };
      } finally {
        inFlight--;
      }
    },
    stats,
    resetStats() {
      const closed = stats();
      loopDelay.reset();
      windowStart = performance.now();
      return closed;
    },
    async destroy() {
      loopDelay.disable();
      await pool.destroy();
    },
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

  const pool = await startBlockingPool(settings.poolSize, settings.queueLimit);
  // createAdaptorServer's type also covers HTTP/2; without options it is a plain node:http server.
  const server = createAdaptorServer({ fetch: createApp(settings, pool).fetch }) as Server;

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
  const { port } = server.address() as { port: number };
  const url = `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}`;
  pool.resetStats(); // the warm-up is not part of any measurement
  console.log(
    `listening on ${url} (pool ${settings.poolSize} threads warm in ${Math.round(pool.stats().poolWarmUpMs)} ms, ` +
      `delay ${settings.delayMs} ms, queue ${settings.queueLimit})`,
  );

  // Shutdown as uvicorn does it: stop accepting, give in-flight requests a moment to finish, then answer the
  // rest 503 (their threads are ended), destroy the pool, exit 0. A second signal exits at once.
  let stopping = false;
  const shutdown = async (why: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    if (!settings.quiet) console.log(`${why}: shutting down`);
    const drained = new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.race([drained, sleep(SHUTDOWN_GRACE_MS)]);
    await pool.destroy();
    await sleep(50); // let the 503s of the ended tasks reach their sockets
    server.closeAllConnections();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  // Started by a script with an IPC channel: if that script dies, even by SIGKILL, we go with it.
  if (process.channel) {
    process.on('disconnect', () => void shutdown('parent gone'));
    process.channel.unref();
  }
}

/** How long in-flight requests may go on after SIGINT/SIGTERM before their tasks are ended. */
const SHUTDOWN_GRACE_MS = 2000;

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
