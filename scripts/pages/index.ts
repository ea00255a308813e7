/**
 * The project's pages, written from its results: README.md, scripts/README.md, server/README.md and docs/*.md by
 * their markers (scripts/lib/view/figures.ts says how a marker reads), and each script header's "Takes:" from
 * results/summary.json. report.ts writes them after REPORT.md when its --out is the project's results/, never from a
 * temporary folder; test/pages.test.ts checks that the committed pages are what the committed results write.
 *
 * A table is a function of the results, registered below by the name its marker gives; a page of your own adds a
 * module of tables beside readme.ts and docs.ts and spreads it into TABLES.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderPage, resultsReader, type DerivedFigure, type PageSources, type PageTable } from '../lib/view/figures.ts';
import { formatFigure } from '../lib/model/rounding.ts';
import { writeAtomically } from '../lib/results/file.ts';
import type { ResultsFile } from '../lib/results/types.ts';
import { README_TABLES } from './readme.ts';
import { DOCS_TABLES } from './docs.ts';
import { POOL_CHAIN_TABLES } from './pool-chain.ts';
import { RUNTIMES_TABLES } from './runtimes.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Every table a page may name. */
export const TABLES: Readonly<Record<string, PageTable>> = {
  ...README_TABLES,
  ...DOCS_TABLES,
  ...POOL_CHAIN_TABLES,
  ...RUNTIMES_TABLES,
};

/** Figures worked out from several fields of one file: `<!--fig FILE =NAME ROUNDING-->`. */
export const DERIVED: Readonly<Record<string, DerivedFigure>> = {
  /** summary.json: the whole run, every experiment's time added up. */
  'run-all-duration': (json) => (json as Summary).experiments.reduce((sum, run) => sum + run.durationMs, 0),
  /** Any results file: the largest |total ÷ model − 1| of its measurements that have a model. */
  'largest-gap': (json) =>
    Math.max(
      ...(json as ResultsFile).measurements.flatMap((m) => (m.predictedMs ? [Math.abs(m.totalMs / m.predictedMs - 1)] : [])),
    ),
  /**
   * A file with the server's accounts (fidelity, concurrency-sweep): the largest |total ÷ (D + intake + output) − 1| of
   * the suite client's bursts, what the server's clock does not account for.
   */
  'largest-account-gap': (json) => {
    const file = json as ResultsFile & { accounts: Record<string, { accountedMs: number }> };
    return Math.max(
      ...file.measurements.flatMap((m) => {
        const account = file.accounts[m.label];
        return m.client === 'raw' && account ? [Math.abs(m.totalMs / account.accountedMs - 1)] : [];
      }),
    );
  },
};

interface Summary {
  experiments: { experiment: string; durationMs: number; status: string }[];
}

/** The pages with markers, by their path in the project. */
export function projectPages(root = PROJECT_ROOT): string[] {
  const docs = readdirSafe(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', 'scripts/README.md', 'server/README.md', ...docs].filter((page) => existsSync(join(root, page)));
}

/** The scripts whose header may say how long they took in the committed run. */
export function scriptHeaders(root = PROJECT_ROOT): string[] {
  return readdirSafe(join(root, 'scripts'))
    .filter((name) => name.endsWith('.ts'))
    .sort()
    .map((name) => `scripts/${name}`);
}

/** One page as its results write it: the text, and the markers that could not be written (kept as they were). */
export interface PageUpdate {
  page: string;
  before: string;
  after: string;
  unresolved: string[];
}

/** Every page and script header, written from the results in `resultsDirectory`. Nothing is written to disk. */
export function renderProjectPages(resultsDirectory: string, root = PROJECT_ROOT): PageUpdate[] {
  const sources: PageSources = { results: resultsReader(resultsDirectory), tables: TABLES, derived: DERIVED };
  const pages = projectPages(root).map((page) => {
    const before = readFileSync(join(root, page), 'utf8');
    return { page, before, ...renderedText(renderPage(before, sources)) };
  });
  const headers = scriptHeaders(root).map((page) => {
    const before = readFileSync(join(root, page), 'utf8');
    return { page, before, ...renderTakes(before, page, sources) };
  });
  return [...pages, ...headers];
}

/** Writes the pages whose text changed; returns every page, changed or not, with what it could not write. */
export async function writeProjectPages(resultsDirectory: string, root = PROJECT_ROOT): Promise<PageUpdate[]> {
  const updates = renderProjectPages(resultsDirectory, root);
  for (const update of updates) if (update.after !== update.before) await writeAtomically(join(root, update.page), update.after);
  return updates;
}

const renderedText = ({ text, unresolved }: { text: string; unresolved: string[] }) => ({ after: text, unresolved });

/**
 * A script's "Takes:" line, where it says how long the committed run took: ` * Takes:  41 s in the committed run`,
 * the figure from summary.json (run-all: the whole run). Any other "Takes:" line is the script's own words.
 */
export const TAKES_LINE = /^( \* Takes: +)(\S+ (?:s|min))( in the committed run)/m;

export function renderTakes(source: string, script: string, sources: PageSources): { after: string; unresolved: string[] } {
  if (!TAKES_LINE.test(source)) return { after: source, unresolved: [] };
  const experiment = script.replace(/^scripts\//, '').replace(/\.ts$/, '');
  try {
    const summary = sources.results.json('summary.json') as Summary;
    const durationMs =
      experiment === 'run-all'
        ? (DERIVED['run-all-duration']!(summary) as number)
        : summary.experiments.find((run) => run.experiment === experiment)?.durationMs;
    if (durationMs === undefined) return { after: source, unresolved: [`${script}: not in summary.json`] };
    return { after: source.replace(TAKES_LINE, `$1${formatFigure(durationMs, 'dur')}$3`), unresolved: [] };
  } catch (error) {
    return { after: source, unresolved: [`${script}: ${(error as Error).message}`] };
  }
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
