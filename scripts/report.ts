/**
 * report — REPORT.md from the JSON results already in a folder, without running anything.
 *
 * Run:    npx tsx scripts/report.ts [--out results]
 * Expect: results/REPORT.md: the machine, the blog's figures beside ours, one section per experiment, with its
 *         pictures drawn again from the JSON. A run that was interrupted or failed says so at its top. With the
 *         default --out, the figures of README.md, docs/ and the scripts' headers written again from the same JSON
 *         (scripts/pages/): on a clean checkout nothing changes.
 * Takes:  no experiment: it reads the JSON and draws. run-all.ts calls it at the end of every run.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readResults, resultsDir, whatItShowsIn, writeAtomically, DEFAULT_RESULTS_DIR } from './lib/results/file.ts';
import type { ResultsFile } from './lib/results/types.ts';
import { writeCharts } from './lib/view/charts.ts';
import { markdownTable, measurementRow, ms, totalWithRange, MEASUREMENT_HEADERS } from './lib/view/table.ts';
import { BLOG } from './lib/model/model.ts';
import { ASYNC_VS_SYNC, COMPARE_FASTAPI, FIDELITY } from './lib/results/labels.ts';
import { verdictWord } from './lib/model/targets.ts';
import { writeProjectPages } from './pages/index.ts';

const INTERRUPTED_SUFFIX = '.interrupted.json';

/**
 * The project's pages (README.md, docs/, the scripts' headers) written from the results, when `dir` is the project's
 * own results/ (a temporary --out, as the tests use, writes nothing there). Returns the pages it changed, and what it
 * could not write, each in one sentence.
 */
export async function writePages(dir: string): Promise<{ changed: string[]; unresolved: string[] }> {
  if (resolve(dir) !== resolve(resultsDir(DEFAULT_RESULTS_DIR))) return { changed: [], unresolved: [] };
  const updates = await writeProjectPages(dir);
  return {
    changed: updates.filter((u) => u.after !== u.before).map((u) => u.page),
    unresolved: updates.flatMap((u) => u.unresolved.map((why) => `${u.page}: ${why}`)),
  };
}

export async function writeReport(dir: string): Promise<string> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.json') && name !== 'summary.json').sort();
  const results: ResultsFile[] = [];
  const setAside: Record<string, string> = {};
  for (const name of names) {
    let result: ResultsFile;
    try {
      result = await readResults(join(dir, name));
      if (!Array.isArray(result.measurements)) continue;
    } catch {
      continue; // a foreign or broken file is not ours to report
    }
    // An interrupted run kept beside a complete one is named, not shown: the complete one is the result.
    if (name.endsWith(INTERRUPTED_SUFFIX) && names.includes(name.replace(INTERRUPTED_SUFFIX, '.json'))) {
      setAside[result.experiment] = `${name} (${result.createdAt})`;
      continue;
    }
    // The pictures are drawn again from the JSON, so they always match it (an interrupted run has none).
    if (!result.interrupted) result.charts = await writeCharts(dir, result);
    result.whatItShows ??= await whatItShows(result.experiment);
    results.push(result);
  }
  const target = join(dir, 'REPORT.md');
  await writeAtomically(target, renderReport(results, setAside));
  return target;
}

/** For results written before the JSON carried it: the "What it shows" paragraph of the script's header. */
async function whatItShows(experiment: string): Promise<string> {
  try {
    return whatItShowsIn(await readFile(new URL(`./${experiment}.ts`, import.meta.url), 'utf8'));
  } catch {
    return '';
  }
}

export function renderReport(results: ResultsFile[], setAside: Record<string, string> = {}): string {
  const lines: string[] = ['# Results', ''];
  const env = results[0]?.environment;
  if (env) {
    const packages = Object.entries(env.packages)
      .map(([name, version]) => `${name} ${version}`)
      .join(', ');
    lines.push(
      `Machine: ${env.cpuModel}, ${env.cpus} cores, ${(env.totalMemBytes / 2 ** 30).toFixed(0)} GiB, ${env.platform}/${env.arch}; ` +
        `Node ${env.node}; ${packages}.`,
      '',
      'Totals are first request sent → last response complete; the model is ceil(N / P) · D. Where a measurement ' +
        'was repeated, the total is the median and the range follows in brackets.',
      '',
    );
  }
  lines.push(...sideBySide(results));

  for (const result of results) {
    const title = result.experiment.charAt(0).toUpperCase() + result.experiment.slice(1);
    lines.push(`## ${result.experiment}`, '');
    if (result.interrupted) {
      lines.push(
        `**Interrupted (${result.interruptedBy ?? 'cut short'}): not a result.** Only the measurements below finished; one marked interrupted was cut.`,
        '',
      );
    }
    if (result.failures?.length) lines.push(`**Failed:** ${result.failures.join('; ')}.`, '');
    if (result.whatItShows) lines.push(result.whatItShows.charAt(0).toUpperCase() + result.whatItShows.slice(1), '');
    lines.push(
      `Run ${result.createdAt}${result.params?.quick ? ' (--quick)' : ''}; params \`${JSON.stringify(result.params ?? {})}\`.`,
      '',
    );
    if (setAside[result.experiment])
      lines.push(`An interrupted later run is kept beside it, not shown: ${setAside[result.experiment]}.`, '');
    if (result.skipped) {
      lines.push(`Skipped: ${String(result.skipped)}`, '');
      continue;
    }
    lines.push(
      markdownTable(
        MEASUREMENT_HEADERS,
        result.measurements.map((m) => {
          const row = measurementRow(m);
          if (m.interrupted) row[0] = `${m.label} (interrupted)`;
          return row;
        }),
      ),
      '',
    );
    const loopDelays = result.measurements.filter((m) => m.server);
    if (loopDelays.length > 0) {
      lines.push(
        "The server's event-loop delay during each burst (from `/stats`, ms):",
        '',
        markdownTable(
          ['measurement', 'p50', 'p99', 'max', 'server RSS MB'],
          loopDelays.map((m) => {
            const d = m.server!.eventLoopDelayMs;
            return [m.label, d.p50.toFixed(1), d.p99.toFixed(1), d.max.toFixed(1), (m.server!.rssBytes / 2 ** 20).toFixed(0)];
          }),
        ),
        '',
      );
    }
    // Files written before targets had verdicts (they had pass and withinNoise) show none: their rule is gone.
    const targets = (result.targets ?? []).filter((t) => t.verdict !== undefined);
    if (targets.length > 0) {
      lines.push(
        'What it holds itself to (a target passes only where this run shows it met; inconclusive where it cannot tell):',
        '',
        markdownTable(
          ['figure', 'target', 'measured', 'verdict'],
          targets.map((t) => [t.figure, t.target, t.measured, `${verdictWord(t.verdict)}${t.why ? `: ${t.why}` : ''}`]),
        ),
        '',
      );
    }
    const { charts } = result;
    if (charts?.sweep) lines.push(`![${title}: measured vs model](${charts.sweep})`, '');
    for (const [name, file] of Object.entries(charts?.overlays ?? {}))
      lines.push(`![${result.experiment} · ${name}](${file})`, '');
    for (const [name, file] of Object.entries(charts?.staircases ?? {}))
      lines.push(`![${result.experiment} · ${name}: total as N grows, beside the model's steps](${file})`, '');
    for (const [label, file] of Object.entries(charts?.timelines ?? {}))
      lines.push(`![${result.experiment} · ${label}](${file})`, '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

/** The blog's two printed figures beside ours (and FastAPI's, measured here with the same client). */
function sideBySide(results: ResultsFile[]): string[] {
  const ours = results.find((r) => r.experiment === ASYNC_VS_SYNC.experiment && !r.interrupted);
  if (!ours) return [];
  const compare = results.find((r) => r.experiment === COMPARE_FASTAPI.experiment && !r.interrupted && !r.skipped);
  const find = (r: ResultsFile | undefined, label: string) => r?.measurements.find((m) => m.label === label);
  const shown = (m: ReturnType<typeof find>) => (m ? `${totalWithRange(m)} ms` : '–');
  const [asyncRun, syncRun] = [find(ours, ASYNC_VS_SYNC.async), find(ours, ASYNC_VS_SYNC.sync)];
  // FastAPI's figures sit beside ours only when they were measured with the same N and D.
  const same = (m: ReturnType<typeof find>, like: ReturnType<typeof find>) =>
    m && like && m.concurrency === like.concurrency && m.delayMs === like.delayMs ? m : undefined;
  const lines = [
    '## The blog, side by side',
    '',
    markdownTable(
      [
        'endpoint',
        `blog (FastAPI, N = ${BLOG.requests}), as it printed`,
        'FastAPI, measured here',
        'Hono + tinypool, here',
        'model',
      ],
      [
        [
          'async (`/asyncio-test`)',
          `${BLOG.asyncSeconds} s`,
          shown(same(find(compare, COMPARE_FASTAPI.fastapiAsync), asyncRun)),
          shown(asyncRun),
          `${ms(asyncRun?.predictedMs)} ms`,
        ],
        [
          'sync (`/sync-test`)',
          `${BLOG.syncSeconds} s`,
          shown(same(find(compare, COMPARE_FASTAPI.fastapiSync), syncRun)),
          shown(syncRun),
          `${ms(syncRun?.predictedMs)} ms`,
        ],
      ],
    ),
    '',
    `Here: N = ${asyncRun?.concurrency}, D = ${asyncRun?.delayMs} ms, P = ${syncRun?.poolSize}.`,
    '',
    "The blog's figures are whole seconds from `date +%s` around 100 background `curl` processes.",
  ];
  const fidelity = results.find((r) => r.experiment === FIDELITY.experiment);
  const [curl, suite] = [
    find(fidelity, FIDELITY.burst('async', 'curl', 100)),
    find(fidelity, FIDELITY.burst('async', 'suite', 100)),
  ];
  if (curl?.wholeSeconds !== undefined) {
    const added = suite ? ` (the suite's client, same burst: ${(suite.totalMs / 1000).toFixed(3)} s)` : '';
    lines.push(
      `Our own run of that method (fidelity, \`async-curl-100\`) took ${(curl.totalMs / 1000).toFixed(3)} s${added} and printed ` +
        `${curl.wholeSeconds} s: starting a process per request costs what the machine's fork costs, and subtracting whole seconds can add almost one more.`,
    );
  }
  lines.push('');
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { startScript } = await import('./lib/main.ts');
  const flags = startScript({
    about: 'Regenerates REPORT.md from the JSON results in --out.',
    defaultOut: DEFAULT_RESULTS_DIR,
    numbers: {},
  });
  console.log(`wrote ${await writeReport(resultsDir(flags.out))}`);
  const pages = await writePages(resultsDir(flags.out));
  if (pages.changed.length > 0) console.log(`wrote ${pages.changed.join(', ')} from the results`);
  for (const why of pages.unresolved) console.error(`report: kept as it was, ${why}`);
}
