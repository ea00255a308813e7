/**
 * What every page table is made of: a results file read with its types, a measurement found by its label, and a
 * figure written the one way (formatFigure): a total with the range of its repeats, a model's figure, a table whose
 * raw markdown lines up as well as its rendering.
 */
import { FigureError, formatFigure, type ResultsReader } from '../lib/view/figures.ts';
import type { Measurement, NoFields, ResultsFile } from '../lib/results/types.ts';

/** A results file under the results folder, as the type its experiment declares (F: its own fields, X: its bursts'). */
export function resultsFile<F extends object = NoFields, X extends object = NoFields>(
  results: ResultsReader,
  file: string,
): ResultsFile<F, X> {
  const json = results.json(file) as ResultsFile<F, X>;
  if (!Array.isArray(json.measurements)) throw new FigureError(`${file} is not a results file`);
  if (json.skipped) throw new FigureError(`${file} was skipped: ${json.skipped}`);
  return json;
}

/** The measurement of that label; a FigureError naming the file's labels where there is none. */
export function measured<X extends object>(file: ResultsFile<object, X>, label: string): Measurement<X> {
  const found = file.measurements.find((m) => m.label === label);
  if (!found) throw new FigureError(`${file.experiment}: no measurement labelled ${label}`);
  return found;
}

/** "3.047 s (3.044–3.051)": the median, and the range where there were repeats. */
export function withRange(m: Pick<Measurement, 'totalMs' | 'repeats'>, rounding = 's3'): string {
  const shown = formatFigure(m.totalMs, rounding);
  if (!m.repeats || m.repeats.totalsMs.length < 2) return shown;
  const bare = (ms: number) => formatFigure(ms, rounding).replace(/ \S+$/, '');
  return `${shown} (${bare(m.repeats.min)}–${bare(m.repeats.max)})`;
}

/** The model's figure in seconds: "9 s" where it is whole seconds, else to the ms ("1.620 s"); "–" where there is none. */
export function model(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  return formatFigure(ms, Number.isInteger(ms / 1000) ? 's0' : 's3');
}

/** A markdown table padded so its source lines up too; `right` marks the columns of figures. */
export function pageTable(headers: string[], rows: string[][], right: boolean[] = []): string {
  const widths = headers.map((h, col) => Math.max(3, h.length, ...rows.map((row) => (row[col] ?? '').length)));
  const cell = (text: string, col: number) => (right[col] ? text.padStart(widths[col]!) : text.padEnd(widths[col]!));
  const line = (row: string[]) => `| ${row.map((text, col) => cell(text.replace(/\|/g, '\\|'), col)).join(' | ')} |`;
  const rule = `| ${widths.map((w, col) => (right[col] ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}
