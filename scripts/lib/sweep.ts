/** A sweep: one measurement per setting, printed and charted as measured total beside the model's. */
import type { Measurement } from './results.ts';
import type { Sweep } from './charts.ts';
import { printMeasurements } from './table.ts';

export function printSweep(
  measurements: Measurement[],
  options: { title: string; xLabel: string; pointLabel: (m: Measurement) => string; quiet?: boolean },
): Sweep {
  printMeasurements(options.title, measurements, options.quiet);
  return {
    title: options.title,
    xLabel: options.xLabel,
    points: measurements.map((m) => ({ label: options.pointLabel(m), measuredMs: m.totalMs, predictedMs: m.predictedMs })),
  };
}
