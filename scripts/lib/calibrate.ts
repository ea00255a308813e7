/**
 * How many iterations of some CPU work take a given time on this machine: the experiments that measure CPU work
 * (cpu-bound, libuv-pool) ask for "about 200 ms of one core", not for a number that only fits one CPU.
 */
import { median } from './stats.ts';

/** Doubles the iterations until one call takes a tenth of the target, then scales, then checks (medians of 3). */
export function calibrate(targetMs: number, work: (iterations: number) => unknown, start = 10_000): { iterations: number; ms: number } {
  const time = (iterations: number) => {
    const began = performance.now();
    work(iterations);
    return performance.now() - began;
  };
  let iterations = start;
  while (time(iterations) < targetMs / 10) iterations *= 2;
  iterations = Math.round((iterations * targetMs) / median([time(iterations), time(iterations), time(iterations)]));
  return { iterations, ms: Math.round(median([time(iterations), time(iterations), time(iterations)]) * 1000) / 1000 };
}
