/**
 * How late the event loop runs its timers, sampled by a timer of our own whose clock survives a reset.
 *
 * Why not perf_hooks.monitorEventLoopDelay: it records the time between two of its own ticks, and its
 * reset() also forgets the previous tick, so the first tick after a reset records nothing. A block that
 * starts between a reset and that first tick (a burst fired right after POST /stats/reset) was never seen.
 * Here a reset only empties the window; the last tick is kept, so whatever blocks after it is counted.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { round3 } from './numbers.ts';

export interface LoopDelaySummary {
  /** How many ticks the window holds. */
  samples: number;
  min: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

/** The arithmetic, apart from any clock: feed it tick times (ms) and read the window. */
export class LoopDelayWindow {
  // Percentiles from an HDR histogram (microseconds, within 0.1 %); it holds whole numbers of at least 1, so
  // "on time" is recorded as 1 µs. Count, min, max and mean are kept exactly beside it.
  private readonly lateness: RecordableHistogram = createHistogram();
  private exact = { count: 0, sum: 0, min: Infinity, max: 0 };
  private lastTick: number;

  constructor(
    /** The sampling timer's interval, ms: a tick this long after the previous one was on time. */
    readonly intervalMs: number,
    startedAt: number,
  ) {
    this.lastTick = startedAt;
  }

  /** A tick of the sampling timer at `now` (ms): how late it came is how long the loop was busy beyond it. */
  tick(now: number): void {
    const lateMs = Math.max(0, now - this.lastTick - this.intervalMs);
    this.lateness.record(Math.max(1, Math.round(lateMs * 1000)));
    const e = this.exact;
    e.count++;
    e.sum += lateMs;
    e.min = Math.min(e.min, lateMs);
    e.max = Math.max(e.max, lateMs);
    this.lastTick = now;
  }

  /** Starts a new, empty window. The last tick is kept: the next one measures from it, reset or not. */
  reset(): void {
    this.lateness.reset();
    this.exact = { count: 0, sum: 0, min: Infinity, max: 0 };
  }

  summary(): LoopDelaySummary {
    const { count, sum, min, max } = this.exact;
    if (count === 0) return { samples: 0, min: 0, mean: 0, p50: 0, p99: 0, max: 0 };
    // The histogram's buckets may overshoot the largest value by their width: never report beyond it.
    const percentile = (p: number) => {
      const us = this.lateness.percentile(p);
      return us <= 1 ? 0 : Math.min(us / 1000, max);
    };
    return {
      samples: count,
      min: round3(min),
      mean: round3(sum / count),
      p50: round3(percentile(50)),
      p99: round3(percentile(99)),
      max: round3(max),
    };
  }
}

/** A window fed by a real timer every `intervalMs`; unref'd, so it never keeps the process alive. */
export function sampleLoopDelay(intervalMs = 10): { window: LoopDelayWindow; stop(): void } {
  const window = new LoopDelayWindow(intervalMs, performance.now());
  const timer = setInterval(() => window.tick(performance.now()), intervalMs);
  timer.unref();
  return { window, stop: () => clearInterval(timer) };
}
