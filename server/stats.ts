/**
 * GET /stats: what the server saw during a measurement window — the pool's counters, how late the event loop
 * ran, when the requests arrived — and POST /stats/reset, which closes the window and opens the next. A script
 * resets before each burst, so every figure is that burst's alone.
 */
import type { MiddlewareHandler } from 'hono';
import { sampleLoopDelay, type LoopDelaySummary } from './loop-delay.ts';
import type { PoolStats } from './pool.ts';

export interface ServerStats extends PoolStats {
  /** How late the event loop ran a 10 ms timer since the last reset, in ms: how long it was busy beyond it. */
  eventLoopDelayMs: LoopDelaySummary;
  /**
   * When requests reached the routes since the last reset (not /stats itself), in ms from the window's start:
   * the spread from the first to the last is how long the server took to take in a burst.
   */
  arrivals: { count: number; firstMs: number | null; lastMs: number | null };
  windowMs: number;
  rssBytes: number;
  uptimeMs: number;
}

export interface StatsWindow {
  /** Middleware that notes each request's arrival. */
  noteArrivals: MiddlewareHandler;
  read(): ServerStats;
  /** Returns the stats of the window it closes, then starts a new one. */
  reset(): ServerStats;
  stop(): void;
}

const LOOP_DELAY_INTERVAL_MS = 10;

export function startStatsWindow(pool: { stats(): PoolStats }): StatsWindow {
  const startedAt = performance.now();
  const loopDelay = sampleLoopDelay(LOOP_DELAY_INTERVAL_MS);
  let windowStart = startedAt;
  let arrivals = { count: 0, first: NaN, last: NaN };
  const sinceWindow = (t: number) => (Number.isNaN(t) ? null : round(t - windowStart));

  const read = (): ServerStats => ({
    ...pool.stats(),
    eventLoopDelayMs: loopDelay.window.summary(),
    arrivals: { count: arrivals.count, firstMs: sinceWindow(arrivals.first), lastMs: sinceWindow(arrivals.last) },
    windowMs: round(performance.now() - windowStart),
    rssBytes: process.memoryUsage.rss(),
    uptimeMs: round(performance.now() - startedAt),
  });

  return {
    noteArrivals: async (c, next) => {
      if (!c.req.path.startsWith('/stats')) {
        const now = performance.now();
        if (arrivals.count++ === 0) arrivals.first = now;
        arrivals.last = now;
      }
      await next();
    },
    read,
    reset() {
      const closed = read();
      loopDelay.window.reset();
      arrivals = { count: 0, first: NaN, last: NaN };
      windowStart = performance.now();
      return closed;
    },
    stop: () => loopDelay.stop(),
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
