/**
 * Figures quoted in the project's pages (README.md, docs/*.md), written from the JSON that holds them, so a page
 * follows its results with no hand edit. Two markers, invisible once rendered:
 *
 *   <!--fig FILE PATH ROUNDING-->16.7 ms<!--/fig-->    one figure: FILE under results/, PATH to the field in it
 *   <!--table NAME-->                                  a table: NAME in the tables report.ts knows
 *   | … |
 *   <!--/table-->
 *
 * PATH walks the file's JSON: `perRequest.health100Ms`; `[sync].totalMs` starts at the measurement labelled
 * `sync`; `experiments{experiment=fidelity}.durationMs` picks the one element of an array whose field has that
 * value (`{server=hono,workers=4}`: several fields); `repeats.totalsMs.0` indexes an array. `=NAME` instead of PATH
 * is a figure worked out from several fields of the file (a sum, a largest gap), named beside the tables. ROUNDING is a unit and its decimals
 * (formatFigure): every figure of every page is rounded by that one function, once, from the JSON.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FigureError, formatFigure, parseRounding } from '../model/rounding.ts';

export { FigureError, formatFigure };

/** The results a page quotes, read once each. */
export interface ResultsReader {
  /** The parsed JSON of FILE (a path under the results folder); a FigureError where it is not there. */
  json(file: string): unknown;
}

/** The results of a folder, each file read when first asked for. */
export function resultsReader(dir: string): ResultsReader {
  const cache = new Map<string, unknown>();
  return {
    json(file) {
      if (!cache.has(file)) {
        try {
          cache.set(file, JSON.parse(readFileSync(join(dir, file), 'utf8')));
        } catch (error) {
          throw new FigureError(`${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
        }
      }
      return cache.get(file);
    },
  };
}

/** The field PATH of a results file's JSON (see the header for PATH). */
export function fieldOf(json: unknown, path: string): unknown {
  // [label] first: the measurement of that label.
  let at = path.startsWith('[') ? (json as { measurements?: unknown }).measurements : json;
  for (const [, key, label, select] of path.matchAll(/([^.[\]{}]+)|\[([^\]]*)\]|\{([^}]*)\}/g)) {
    if (key !== undefined) {
      if (at === null || typeof at !== 'object' || !(key in at)) throw new FigureError(`${path}: no field "${key}"`);
      at = (at as Record<string, unknown>)[key];
      continue;
    }
    // [label] is {label=…}: labels hold "=" (P=10), so a field's name is never parsed out of them.
    const wanted: [string, string][] =
      label !== undefined
        ? [['label', label]]
        : select!.split(',').map((pair) => [pair.slice(0, pair.indexOf('=')).trim(), pair.slice(pair.indexOf('=') + 1).trim()]);
    if (!Array.isArray(at)) throw new FigureError(`${path}: a list was expected before ${label ?? select}`);
    const found = at.filter((item: unknown) =>
      wanted.every(([field, value]) => String((item as Record<string, unknown> | null)?.[field]) === value),
    );
    if (found.length !== 1) throw new FigureError(`${path}: ${found.length} elements match ${label ?? select}, not one`);
    at = found[0];
  }
  return at;
}

/** A table a page shows, written from the results (markdown, without the markers). */
export type PageTable = (results: ResultsReader) => string;
/** A figure worked out from several fields of one file (its parsed JSON), such as the largest gap to the model. */
export type DerivedFigure = (json: unknown) => number | string;

export interface PageSources {
  results: ResultsReader;
  tables: Readonly<Record<string, PageTable>>;
  derived: Readonly<Record<string, DerivedFigure>>;
}

/** A page written again from its sources, and every marker it could not write (kept as it was). */
export interface RenderedPage {
  text: string;
  unresolved: string[];
}

const FIGURE = /<!--fig ([^>]*?)-->([\s\S]*?)<!--\/fig-->/g;
const TABLE = /<!--table ([\w-]+)-->\n([\s\S]*?)<!--\/table-->/g;

/** Every marker of a page written from the results; one that cannot be written stays as it was, and is named. */
export function renderPage(text: string, sources: PageSources): RenderedPage {
  const unresolved: string[] = [];
  const withTables = text.replace(TABLE, (whole, name: string) => {
    const table = sources.tables[name];
    if (!table) {
      unresolved.push(`table ${name}: no such table`);
      return whole;
    }
    try {
      return `<!--table ${name}-->\n${table(sources.results).trimEnd()}\n<!--/table-->`;
    } catch (error) {
      unresolved.push(`table ${name}: ${(error as Error).message}`);
      return whole;
    }
  });
  const withFigures = withTables.replace(FIGURE, (whole, spec: string) => {
    try {
      return `<!--fig ${spec}-->${figure(spec, sources)}<!--/fig-->`;
    } catch (error) {
      unresolved.push(`fig ${spec}: ${(error as Error).message}`);
      return whole;
    }
  });
  return { text: withFigures, unresolved };
}

/** The text of one figure marker's spec: `FILE PATH ROUNDING`, or `FILE =NAME ROUNDING`. */
export function figure(spec: string, sources: PageSources): string {
  const words = spec.trim().split(/\s+/);
  const rounding = parseRounding(words.pop() ?? '');
  const [file, ...path] = words;
  if (file === undefined || path.length === 0) throw new FigureError('a figure is FILE PATH ROUNDING, or FILE =NAME ROUNDING');
  if (path.length === 1 && path[0]!.startsWith('=')) {
    const derive = sources.derived[path[0]!.slice(1)];
    if (!derive) throw new FigureError(`no derived figure named ${path[0]!.slice(1)}`);
    return formatFigure(derive(sources.results.json(file)), rounding);
  }
  return formatFigure(fieldOf(sources.results.json(file), path.join(' ')), rounding);
}

/** The figure markers of a page, in order: their spec and the text between them. */
export function figureMarkers(text: string): { spec: string; shown: string }[] {
  return [...text.matchAll(FIGURE)].map((m) => ({ spec: m[1]!, shown: m[2]! }));
}

/** The page with every marker and what it holds taken out: the prose a person wrote by hand. */
export function withoutMarkers(text: string): string {
  return text.replace(TABLE, '').replace(FIGURE, '');
}
