/**
 * Probes: while a burst runs, single requests to other routes on a fixed schedule, to see whether the
 * server still answers. The probe experiments (blocking-event-loop, responsiveness) share these.
 */
import type { Probe } from './measure.ts';
import type { Measurement } from './results.ts';
import { formatTable, ms, printMeasurements } from './table.ts';
import type { NumberFlag } from './cli.ts';

/** --probe-every-ms, shared by the probe experiments. */
export const PROBE_EVERY_FLAG: NumberFlag = {
  help: 'one probe of each kind every this many ms',
  default: 50,
  quick: 25,
  max: 10_000,
};

/** /health should answer at once; the async endpoint should take its own delay and no more. */
export function serverProbes(delayMs: number): Probe[] {
  return [
    { label: 'health', path: '/health', delayMs: 0 },
    { label: 'async', path: '/asyncio-test/0', delayMs },
  ];
}

export function isProbe(m: Measurement): boolean {
  return m.probe !== undefined;
}

/** The bursts beside the model, then what each probe saw beside the server's event-loop delay. */
export function printProbeReport(title: string, measurements: Measurement[], probeEveryMs: number, quiet = false): void {
  if (quiet) return;
  const bursts = measurements.filter((m) => !isProbe(m));
  printMeasurements(title, bursts);
  console.log(
    `\nProbes every ${probeEveryMs} ms during each burst (the async probe includes its own delay), and the server's event-loop delay:\n`,
  );
  console.log(
    formatTable(
      ['probe', 'count', 'p50 ms', 'p99 ms', 'max ms', 'loop delay p50', 'p99', 'max'],
      measurements.filter(isProbe).map((m) => {
        const loop = bursts.find((b) => b.label === m.probe?.burst)?.server?.eventLoopDelayMs;
        return [
          m.label,
          m.concurrency,
          ms(m.latencyMs.p50),
          ms(m.latencyMs.p99),
          ms(m.latencyMs.max),
          ms(loop?.p50),
          ms(loop?.p99),
          ms(loop?.max),
        ];
      }),
    ),
  );
}
