import type { Measurement, Sweep } from '../results/types.ts';
/** Tables for the terminal and for Markdown, from the same rows. */

export type Row = (string | number)[];

const NUMERIC = /^(?:[-+]?[\d.,]+[%×x]?|–)$/;

/** Columns padded to width; a column of numbers is right-aligned. */
export function formatTable(headers: string[], rows: Row[]): string {
  const body = rows.map((row) => row.map(String));
  const widths = headers.map((h, col) => Math.max(h.length, ...body.map((row) => (row[col] ?? '').length)));
  const numeric = headers.map((_, col) => body.every((row) => NUMERIC.test(row[col] ?? '')));
  const line = (row: string[]) =>
    row
      .map((cell, col) => (numeric[col] ? cell.padStart(widths[col]!) : cell.padEnd(widths[col]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function markdownTable(headers: string[], rows: Row[]): string {
  const align = headers.map((_, col) => (rows.every((row) => NUMERIC.test(String(row[col]))) ? '---:' : '---'));
  const line = (row: (string | number)[]) => `| ${row.map((cell) => String(cell).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(headers), line(align), ...rows.map(line)].join('\n');
}

/** 3012.4 → "3012.4"; always one decimal so columns line up. */
export function ms(value: number | null | undefined): string {
  return value === null || value === undefined || Number.isNaN(value) ? '–' : value.toFixed(1);
}

/** 3012.4 → "3.012 s" (or with as many decimals as given): one way to write a time in seconds, for tables and charts. */
export function seconds(ms: number | null | undefined, decimals = 3): string {
  return ms === null || ms === undefined ? '–' : `${(ms / 1000).toFixed(decimals)} s`;
}

/** A duration as a person reads it: "3.0 s" from a second up, "200 ms" below. */
export function duration(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/** The columns every experiment reports a measurement with, in the terminal and in REPORT.md. */
export const MEASUREMENT_HEADERS = [
  'measurement',
  'endpoint',
  'N',
  'P',
  'D ms',
  'total ms',
  'model ms',
  'ratio',
  'p50 ms',
  'p99 ms',
  'ok',
  'errors',
];

export function measurementRow(m: Measurement): Row {
  return [
    m.label,
    m.endpoint,
    m.concurrency,
    m.poolSize ?? '–',
    m.delayMs,
    totalWithRange(m),
    ms(m.predictedMs),
    m.predictedMs ? (m.totalMs / m.predictedMs).toFixed(3) : '–',
    ms(m.latencyMs.p50),
    ms(m.latencyMs.p99),
    m.ok,
    errorsBesideModel(m),
  ];
}

/** The errors, and beside them the refusals the model predicts where a limit refuses part of the burst: "8960 (model 8960)". */
export function errorsBesideModel(m: Measurement): string | number {
  if (m.expectedRefused === undefined) return m.errors;
  return `${m.errors} (model ${m.expectedRefused ?? 'not predicted'})`;
}

/** The measurements of a run as a terminal table under a title. */
export function printMeasurements(title: string, measurements: Measurement[], quiet = false): void {
  if (quiet) return;
  console.log(`\n${title}\n\n${formatTable(MEASUREMENT_HEADERS, measurements.map(measurementRow))}`);
}

/** A total, with the range of its repeats when there were several: "3016.6 (3012.0–3020.1)". */
export function totalWithRange(m: { totalMs: number; repeats?: { totalsMs: number[]; min: number; max: number } }): string {
  const range = m.repeats && m.repeats.totalsMs.length > 1 ? ` (${ms(m.repeats.min)}–${ms(m.repeats.max)})` : '';
  return `${ms(m.totalMs)}${range}`;
}

/** A sweep, one measurement per setting: printed as the standard table, and returned for its chart. */
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

/**
 * How a burst was split over K processes, each process's answers in the order of their PIDs, one that got none
 * included: "0/10/57/33". `processes` names every process that could serve (a cluster's /stats, uvicorn's ready
 * lines); where a file does not name them all, `count` says how many there were, and the unnamed ones got nothing.
 */
export function splitText(
  perWorker: Record<string, number>,
  processes: { pids?: readonly string[]; count?: number } = {},
): string {
  const pids = [...new Set([...(processes.pids ?? []), ...Object.keys(perWorker)])].sort((a, b) => Number(a) - Number(b));
  const counts = pids.map((pid) => perWorker[pid] ?? 0);
  while (counts.length < (processes.count ?? 0)) counts.push(0);
  return counts.join('/') || '–';
}
