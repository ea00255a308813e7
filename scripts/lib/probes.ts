/**
 * Probes: while a burst runs, single requests to other routes on a fixed schedule, to see whether the
 * server still answers. The probe experiments (blocking-event-loop, responsiveness) share these, and their shape.
 */
import type { Probe } from './measure/measure.ts';
import type { Measurement, NoFields, ParamValue } from './results/types.ts';
import { formatTable, ms, printMeasurements } from './view/table.ts';
import { URL_FLAG, type CommonFlags, type NumberFlag } from './flags.ts';
import type { Experiment, PlannedBurst } from './experiment.ts';
import type { KnownSettings } from './processes/start-server.ts';

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

/**
 * The flags of a probe experiment, with its own defaults for its bursts' N and D and the pool: how often to probe
 * comes with them, and --url (a server already running).
 */
export function probeExperimentFlags(numbers: { requests: NumberFlag; delayMs: NumberFlag; pool: NumberFlag }) {
  return { numbers: { ...numbers, probeEveryMs: PROBE_EVERY_FLAG }, texts: { url: URL_FLAG } };
}

/** What a probe experiment is run with: its bursts' N and D, the pool, how often to probe, a server at --url. */
type ProbeFlags = { requests: number; delayMs: number; pool: number; probeEveryMs: number; url?: string };

/**
 * A probe experiment from its server to its file: server.ts started with the flags' pool and D (or the one at
 * --url), the script's bursts one after another with /health and the async endpoint probed beside each, the report
 * of both, and the results.
 */
export async function measureBesideProbes(
  experiment: Experiment<ProbeFlags & CommonFlags & Record<string, ParamValue>, NoFields, NoFields>,
  title: (settings: KnownSettings['settings']) => string,
  bursts: (server: KnownSettings, burst: { requests: number; delayMs: number }) => PlannedBurst[],
): Promise<void> {
  const { flags } = experiment;
  const server = await experiment.server({ poolSize: flags.pool, delayMs: flags.delayMs });
  // The server's own delay (read back where it runs at --url), not only the flag's.
  const { delayMs } = server.settings;
  const plans = bursts(server, { requests: flags.requests, delayMs });
  const measurements = await experiment.measureWithProbes(server, plans, serverProbes(delayMs), flags.probeEveryMs);
  printProbeReport(title(server.settings), measurements, flags.probeEveryMs, flags.quiet);
  await experiment.finish();
}
