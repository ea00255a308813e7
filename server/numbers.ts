/**
 * Two small things about numbers that the server and the scripts both need, written once: reading a whole number
 * a user typed (a flag, an environment variable), and rounding a time in ms to the microsecond for a JSON answer.
 */

/** A whole number from min to max written in decimal digits, or null. */
export function parseWholeNumber(raw: string, min: number, max: number): number | null {
  const value = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  return Number.isSafeInteger(value) && value >= min && value <= max ? value : null;
}

/** A time in ms to the microsecond (3 decimals): what every figure in /stats and in the results files is given to. */
export function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
