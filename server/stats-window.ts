/**
 * GET /stats: what the server saw during a measurement window — the pool's counters, how late the event loop
 * ran, when the requests arrived — and POST /stats/reset, which closes the window and opens the next. A script
 * resets before each burst, so every figure is that burst's alone.
 */
import type { Server } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import { sampleLoopDelay, type LoopDelaySummary } from './loop-delay.ts';
import type { PoolStats } from './pool.ts';
import type { DatabaseStats } from './database.ts';
import { libuvThreadpoolSize } from './libuv.ts';
import { currentRuntime, hiddenPool, type HiddenPool, type Runtime } from './runtime.ts';
import { round3 } from './numbers.ts';

export interface ServerStats extends PoolStats {
  /** How long each endpoint waits (--delay-ms): with the pool size, what a client needs for the model. */
  delayMs: number;
  /** How late the event loop ran a 10 ms timer since the last reset, in ms: how long it was busy beyond it. */
  eventLoopDelayMs: LoopDelaySummary;
  /**
   * When requests reached the routes since the last reset (not /stats itself), in ms from the window's start:
   * the spread from the first to the last is how long the server took to take in a burst.
   */
  arrivals: { count: number; firstMs: number | null; lastMs: number | null };
  /**
   * When the answers to those requests were written (handed to the kernel), in ms from the window's start. For a
   * burst of awaited timers, the last answer minus (the last arrival + D) is the server's output: how long the one
   * event loop took, once the last timer was due, to write every answer. Intake + D + output is what a total holds.
   */
  answers: { count: number; firstMs: number | null; lastMs: number | null };
  /** Requests being served now (not /stats), and the most at once since the last reset. */
  inFlight: { now: number; peak: number };
  /** TCP connections open now, and the most open at once since the last reset (the one asking included). */
  connections: { open: number; peak: number };
  /** node-postgres' pool behind /db-test; null without --database-url. */
  database: DatabaseStats | null;
  /** The runtime that runs this server (node, bun, deno), and its version. */
  runtime: Runtime;
  runtimeVersion: string;
  /** Where this runtime runs async crypto, fs and dns.lookup, and how many threads that pool has at most. */
  hiddenPool: HiddenPool;
  /** libuv's threadpool: what UV_THREADPOOL_SIZE was at start, 4 when unset; null off Node (Bun and Deno: hiddenPool). */
  libuvThreadpoolSize: number | null;
  windowMs: number;
  rssBytes: number;
  uptimeMs: number;
}

export interface StatsWindow {
  /** Middleware that notes each request's arrival, and when its answer is written. */
  noteArrivals: MiddlewareHandler<{ Bindings: HttpBindings }>;
  /** Counts the server's TCP connections from now on. */
  watchConnections(server: Server): void;
  read(): ServerStats | Promise<ServerStats>;
  /** Returns the stats of the window it closes, then starts a new one. */
  reset(): ServerStats | Promise<ServerStats>;
  stop(): void;
}

/** This process's own window (with --workers K, each worker has one; server/cluster.ts adds them up). */
export interface LocalStatsWindow extends StatsWindow {
  read(): ServerStats;
  reset(): ServerStats;
}

const LOOP_DELAY_INTERVAL_MS = 10;

export function startStatsWindow({
  pool,
  database,
  delayMs,
}: {
  pool: { stats(): PoolStats };
  database: { stats(): DatabaseStats | null };
  delayMs: number;
}): LocalStatsWindow {
  const startedAt = performance.now();
  const { runtime, runtimeVersion } = currentRuntime();
  const hidden = hiddenPool(runtime);
  const loopDelay = sampleLoopDelay(LOOP_DELAY_INTERVAL_MS);
  let windowStart = startedAt;
  let arrivals = { count: 0, first: NaN, last: NaN };
  let answers = { count: 0, first: NaN, last: NaN };
  const connections = { open: 0, peak: 0 };
  const inFlight = { now: 0, peak: 0 };
  const sinceWindow = (t: number) => (Number.isNaN(t) ? null : round3(t - windowStart));

  const read = (): ServerStats => ({
    ...pool.stats(),
    delayMs,
    eventLoopDelayMs: loopDelay.window.summary(),
    arrivals: { count: arrivals.count, firstMs: sinceWindow(arrivals.first), lastMs: sinceWindow(arrivals.last) },
    answers: { count: answers.count, firstMs: sinceWindow(answers.first), lastMs: sinceWindow(answers.last) },
    inFlight: { ...inFlight },
    connections: { ...connections },
    database: database.stats(),
    runtime,
    runtimeVersion,
    hiddenPool: hidden,
    libuvThreadpoolSize: runtime === 'node' ? libuvThreadpoolSize() : null,
    windowMs: round3(performance.now() - windowStart),
    rssBytes: process.memoryUsage.rss(),
    uptimeMs: round3(performance.now() - startedAt),
  });

  return {
    noteArrivals: async (c, next) => {
      if (c.req.path.startsWith('/stats')) return next();
      const now = performance.now();
      if (arrivals.count++ === 0) arrivals.first = now;
      arrivals.last = now;
      c.env?.outgoing?.once('finish', () => {
        const written = performance.now();
        if (answers.count++ === 0) answers.first = written;
        answers.last = written;
      });
      inFlight.peak = Math.max(inFlight.peak, ++inFlight.now);
      try {
        await next();
      } finally {
        inFlight.now--;
      }
    },
    watchConnections(server) {
      server.on('connection', (socket) => {
        connections.peak = Math.max(connections.peak, ++connections.open);
        socket.once('close', () => connections.open--);
      });
    },
    read,
    reset() {
      const closed = read();
      loopDelay.window.reset();
      arrivals = { count: 0, first: NaN, last: NaN };
      answers = { count: 0, first: NaN, last: NaN };
      connections.peak = connections.open;
      inFlight.peak = inFlight.now;
      windowStart = performance.now();
      return closed;
    },
    stop: () => loopDelay.stop(),
  };
}

/** /stats of a cluster: the workers' figures added up (the worst for delays), and each worker's own. */
export interface ClusterStats extends ServerStats {
  workers: number;
  /** worker PID → its own stats. */
  perWorker: Record<string, ServerStats>;
  /** The primary's own memory: rssBytes above adds it to the workers'. */
  primaryRssBytes: number;
}

/** The group's figures: counts added up, delays and times the worst worker's, memory summed with the primary's. */
export function addUpStats(byPid: Map<number, ServerStats>): ClusterStats {
  const all = [...byPid.values()];
  const sum = (f: (s: ServerStats) => number) => all.reduce((total, s) => total + f(s), 0);
  const max = (f: (s: ServerStats) => number) => Math.max(...all.map(f));
  const span = (f: (s: ServerStats) => ServerStats['arrivals']) => {
    const firsts = all.map((s) => f(s).firstMs).filter((x): x is number => x !== null);
    const lasts = all.map((s) => f(s).lastMs).filter((x): x is number => x !== null);
    return {
      count: sum((s) => f(s).count),
      firstMs: firsts.length > 0 ? Math.min(...firsts) : null,
      lastMs: lasts.length > 0 ? Math.max(...lasts) : null,
    };
  };
  const databases = all.map((s) => s.database).filter((d) => d !== null);
  const primaryRssBytes = process.memoryUsage.rss();
  const runtime = currentRuntime();
  return {
    poolSize: sum((s) => s.poolSize),
    threadsAlive: sum((s) => s.threadsAlive),
    activeTasks: sum((s) => s.activeTasks),
    queuedTasks: sum((s) => s.queuedTasks),
    queueLimit: sum((s) => s.queueLimit),
    completed: sum((s) => s.completed),
    rejected: sum((s) => s.rejected),
    cancelled: sum((s) => s.cancelled),
    failed: sum((s) => s.failed),
    poolWarmUpMs: max((s) => s.poolWarmUpMs),
    delayMs: all[0]?.delayMs ?? 0,
    eventLoopDelayMs: {
      samples: sum((s) => s.eventLoopDelayMs.samples),
      min: Math.min(...all.map((s) => s.eventLoopDelayMs.min)),
      mean: max((s) => s.eventLoopDelayMs.mean),
      p50: max((s) => s.eventLoopDelayMs.p50),
      p99: max((s) => s.eventLoopDelayMs.p99),
      max: max((s) => s.eventLoopDelayMs.max),
    },
    arrivals: span((s) => s.arrivals),
    answers: span((s) => s.answers),
    inFlight: { now: sum((s) => s.inFlight.now), peak: sum((s) => s.inFlight.peak) },
    connections: { open: sum((s) => s.connections.open), peak: sum((s) => s.connections.peak) },
    database:
      databases.length === 0
        ? null
        : {
            poolSize: databases.reduce((t, d) => t + d!.poolSize, 0),
            open: databases.reduce((t, d) => t + d!.open, 0),
            idle: databases.reduce((t, d) => t + d!.idle, 0),
            waiting: databases.reduce((t, d) => t + d!.waiting, 0),
          },
    // Every worker runs on the primary's runtime, with its environment.
    ...runtime,
    hiddenPool: hiddenPool(runtime.runtime),
    libuvThreadpoolSize: runtime.runtime === 'node' ? libuvThreadpoolSize() : null,
    windowMs: max((s) => s.windowMs),
    rssBytes: sum((s) => s.rssBytes) + primaryRssBytes,
    uptimeMs: max((s) => s.uptimeMs),
    workers: all.length,
    perWorker: Object.fromEntries(byPid),
    primaryRssBytes,
  };
}
