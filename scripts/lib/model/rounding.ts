/**
 * The one rounding of every figure the project's pages quote (README.md, docs/*.md) and its targets print: a value
 * from the JSON, in its unit, with its decimals. Arithmetic only, so the judging in this folder and the pages in
 * view/ share it.
 */

/** How a figure is written: its unit and how many decimals. */
export interface Rounding {
  unit: FigureUnit;
  decimals: number;
}

/**
 * ms: a value in ms, as ms; s: a value in ms, as seconds; dur: a value in ms as a person says how long something
 * takes (whole seconds below two minutes, else minutes); us: a value in µs; n: a plain number; x: a factor;
 * pct: a fraction, as a percentage; mb, gib: bytes; text: a string, as it is.
 */
export type FigureUnit = 'ms' | 's' | 'dur' | 'us' | 'n' | 'x' | 'pct' | 'mb' | 'gib' | 'text';
const UNITS: readonly FigureUnit[] = ['ms', 's', 'dur', 'us', 'n', 'x', 'pct', 'mb', 'gib', 'text'];

/** "s3" → seconds with 3 decimals; "dur" and "text" take none. */
export function parseRounding(spec: string): Rounding {
  const match = /^([a-z]+)(\d?)$/.exec(spec);
  const unit = match?.[1] as FigureUnit | undefined;
  if (!match || unit === undefined || !UNITS.includes(unit)) {
    throw new FigureError(`"${spec}" is not a rounding (a unit of ${UNITS.join(', ')}, then its decimals, e.g. s3)`);
  }
  return { unit, decimals: match[2] === '' ? 0 : Number(match[2]) };
}

/**
 * The one rounding of the project's pages: a figure from the JSON, in its unit, with its decimals. Integer parts of
 * five digits and more are grouped by thousands with a space (10 000, 23 626 ms); four digits are not (2457 ms).
 */
export function formatFigure(value: unknown, rounding: Rounding | string): string {
  const { unit, decimals } = typeof rounding === 'string' ? parseRounding(rounding) : rounding;
  if (unit === 'text') {
    if (typeof value !== 'string' && typeof value !== 'number') throw new FigureError(`${JSON.stringify(value)} is not text`);
    return String(value);
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new FigureError(`${JSON.stringify(value)} is not a number`);
  switch (unit) {
    case 'ms':
      return `${grouped(value, decimals)} ms`;
    case 's':
      return `${grouped(value / 1000, decimals)} s`;
    case 'dur':
      return value < 120_000 ? `${grouped(value / 1000, 0)} s` : `${grouped(value / 60_000, 1)} min`;
    case 'us':
      return `${grouped(value, decimals)} µs`;
    case 'n':
      return grouped(value, decimals);
    case 'x':
      return `${grouped(value, decimals)}×`;
    case 'pct':
      return `${grouped(value * 100, decimals)} %`;
    case 'mb':
      return `${grouped(value / 2 ** 20, decimals)} MB`;
    case 'gib':
      return `${grouped(value / 2 ** 30, decimals)} GiB`;
  }
}

/** A number with its decimals, grouped by thousands from five digits on; never "-0". */
export function grouped(value: number, decimals: number): string {
  const fixed = value.toFixed(decimals);
  const [whole, fraction] = (/^-0(\.0*)?$/.test(fixed) ? fixed.slice(1) : fixed).split('.');
  const digits = whole!.replace('-', '');
  const spaced = digits.length >= 5 ? digits.replace(/\B(?=(\d{3})+$)/g, ' ') : digits;
  return `${whole!.startsWith('-') ? '-' : ''}${spaced}${fraction === undefined ? '' : `.${fraction}`}`;
}

/** A figure that cannot be written: its file, field or rounding is not there. Said in one sentence. */
export class FigureError extends Error {}
