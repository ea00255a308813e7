/**
 * --repeat K: K bursts of the same plan as one measurement. The total is the median of the K totals, and the
 * range beside it; ok, errors and the latencies count every run, so an error in any of them shows; the request
 * records, server stats and probes are those of the run whose total is nearest the median, so one burst's records
 * are never mixed with another's.
 */
import type { BurstResult } from '../client/burst-types.ts';
import {
  toMeasurement,
  type Measurement,
  type MeasurementContext,
  type NoFields,
  type SharedMeasurementFields,
} from '../results/types.ts';
import { median, summarize } from '../model/percentiles.ts';
import { round3 } from '../../../server/numbers.ts';
import type { ServerStats } from '../../../server/stats-window.ts';

export interface MeasuredRun {
  result: BurstResult;
  /** The server's stats for this burst alone. */
  stats?: ServerStats;
  /** What the probes saw during this burst. */
  probes?: Measurement[];
}

/** The run whose total is nearest the median of all runs' totals. */
export function nearestToMedian<R extends MeasuredRun>(runs: R[]): R {
  const middle = median(runs.map((run) => run.result.totalMs));
  return runs.reduce((best, run) =>
    Math.abs(run.result.totalMs - middle) < Math.abs(best.result.totalMs - middle) ? run : best,
  );
}

/**
 * K bursts of the same plan as one measurement: the median total and all K; ok, errors and latencies over every
 * run; the request records and server stats of the run nearest the median.
 */
export function combineRuns<X extends object = NoFields>(
  context: Omit<MeasurementContext, 'server'>,
  runs: MeasuredRun[],
  extra?: SharedMeasurementFields & NoInfer<X>,
): Measurement<X> {
  const measured = runs.map((run) => toMeasurement({ ...context, server: run.stats }, run.result));
  const totalsMs = measured.map((m) => m.totalMs);
  const middle = median(totalsMs);
  const { requests, ...nearest } = measured[runs.indexOf(nearestToMedian(runs))]!;
  const wholeSeconds = runs.flatMap((run) => (run.result.wholeSeconds === undefined ? [] : [run.result.wholeSeconds]));
  const repeats = {
    totalsMs,
    median: round3(middle),
    min: Math.min(...totalsMs),
    max: Math.max(...totalsMs),
    ...(wholeSeconds.length > 0 ? { wholeSeconds } : {}),
    runs: measured.map((m) => ({
      totalMs: m.totalMs,
      ok: m.ok,
      errors: m.errors,
      errorCounts: m.errorCounts,
      ...(m.perWorker ? { perWorker: m.perWorker } : {}),
    })),
  };
  const errorDetails = addCounts(measured.map((m) => m.errorDetails ?? {}));
  const perWorker = addCounts(measured.map((m) => m.perWorker ?? {}));
  const outcomes =
    measured.length === 1
      ? {}
      : {
          ok: sum(measured.map((m) => m.ok)),
          errors: sum(measured.map((m) => m.errors)),
          statusCounts: addCounts(measured.map((m) => m.statusCounts)),
          errorCounts: addCounts(measured.map((m) => m.errorCounts)),
          ...(Object.keys(errorDetails).length > 0 ? { errorDetails } : {}),
          latencyMs: summarize(runs.flatMap((run) => run.result.requests.map((r) => r.endMs - r.startMs))),
          ...(Object.keys(perWorker).length > 0 ? { perWorker } : {}),
        };
  return {
    ...nearest,
    ...(extra as X),
    ...outcomes,
    totalMs: round3(middle), // the median of the K totals; the single run's when K = 1
    repeats,
    requests, // last: the one long list in the file
  };
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function addCounts<K extends string>(counts: { [key in K]?: number }[]): { [key in K]?: number } {
  const total: { [key in K]?: number } = {};
  for (const count of counts) for (const [key, n] of Object.entries(count) as [K, number][]) total[key] = (total[key] ?? 0) + n;
  return total;
}
