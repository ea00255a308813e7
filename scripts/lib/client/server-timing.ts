/**
 * The W3C Server-Timing header, read: `Server-Timing: pool-wait;dur=3000.2, pool-run;dur=3000.5` becomes
 * `{ "pool-wait": 3000.2, "pool-run": 3000.5 }`. A server says with it where a request's time went, link by link of
 * its chain; every browser's devtools show it, and the burst client keeps it on each request (`serverTiming`).
 *
 * The grammar (https://www.w3.org/TR/server-timing/): metrics separated by commas, each a name and `;param=value`
 * pairs, a value a token or a quoted string (which may hold commas and semicolons). Only `dur` is kept, in ms; a
 * metric without one counts 0, as the specification says. A name given twice is added up: the time in that link.
 */

/** Metric name → ms. */
export type ServerTiming = Record<string, number>;

/** The header's metrics, or null where it names none. Lenient: what cannot be read is skipped, never thrown. */
export function parseServerTiming(header: string): ServerTiming | null {
  const timing: ServerTiming = {};
  let found = false;
  for (const metric of splitOutsideQuotes(header, ',')) {
    const [rawName, ...params] = splitOutsideQuotes(metric, ';');
    const name = rawName?.trim();
    if (!name || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) continue;
    let dur = 0;
    for (const param of params) {
      const eq = param.indexOf('=');
      if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'dur') continue;
      const value = Number(
        param
          .slice(eq + 1)
          .trim()
          .replace(/^"(.*)"$/, '$1'),
      );
      if (Number.isFinite(value)) dur = value;
      break; // the first dur counts, as browsers take it
    }
    timing[name] = (timing[name] ?? 0) + dur;
    found = true;
  }
  return found ? timing : null;
}

/** `text` split at `separator` where it is not inside a quoted string (a backslash escapes within one). */
function splitOutsideQuotes(text: string, separator: ',' | ';'): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted && ch === '\\') i++;
    else if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === separator) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}
