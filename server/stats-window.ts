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

export interface ServerStats extends PoolStats {
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
  /** libuv's threadpool: what UV_THREADPOOL_SIZE was at start, 4 when unset. */
  libuvThreadpoolSize: number;
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

export function startStatsWindow({ pool, database }: { pool: { stats(): PoolStats }; database: { stats(): DatabaseStats | null } }): LocalStatsWindow {
  const startedAt = performance.now();
  const loopDelay = sampleLoopDelay(LOOP_DELAY_INTERVAL_MS);
  let windowStart = startedAt;
  let arrivals = { count: 0, first: NaN, last: NaN };
  let answers = { count: 0, first: NaN, last: NaN };
  const connections = { open: 0, peak: 0 };
  const inFlight = { now: 0, peak: 0 };
  const sinceWindow = (t: number) => (Number.isNaN(t) ? null : round(t - windowStart));

  const read = (): ServerStats => ({
    ...pool.stats(),
    eventLoopDelayMs: loopDelay.window.summary(),
    arrivals: { count: arrivals.count, firstMs: sinceWindow(arrivals.first), lastMs: sinceWindow(arrivals.last) },
    answers: { count: answers.count, firstMs: sinceWindow(answers.first), lastMs: sinceWindow(answers.last) },
    inFlight: { ...inFlight },
    connections: { ...connections },
    database: database.stats(),
    libuvThreadpoolSize: libuvThreadpoolSize(),
    windowMs: round(performance.now() - windowStart),
    rssBytes: process.memoryUsage.rss(),
    uptimeMs: round(performance.now() - startedAt),
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

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
