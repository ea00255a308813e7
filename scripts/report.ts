/**
 * report — REPORT.md from the JSON results already in a folder, without running anything.
 *
 * Run:    npx tsx scripts/report.ts [--out results]
 * Expect: results/REPORT.md: the machine, the blog's figures beside ours, one section per experiment.
 * Takes:  well under a second. run-all.ts calls it at the end of every run.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readResults, resultsDir, writeAtomically, writeCharts, DEFAULT_RESULTS_DIR, type ResultsFile } from './lib/results.ts';
import { markdownTable, measurementRow, seconds, MEASUREMENT_HEADERS } from './lib/table.ts';
import { BLOG } from './lib/blog.ts';
import type { ChartFiles } from './lib/charts.ts';


export async function writeReport(dir: string): Promise<string> {
  const files = (await readdir(dir)).filter((name) => name.endsWith('.json') && name !== 'summary.json').sort();
  const results: ResultsFile[] = [];
  const about: Record<string, string> = {};
  for (const name of files) {
    let result: ResultsFile;
    try {
      result = await readResults(join(dir, name));
      if (!Array.isArray(result.measurements)) continue;
    } catch {
      continue; // a foreign or broken file is not ours to report
    }
    // The pictures are drawn again from the JSON, so they always match it.
    result.charts = await writeCharts(dir, result);
    results.push(result);
    about[result.experiment] = await whatItShows(result.experiment);
  }
  const target = join(dir, 'REPORT.md');
  await writeAtomically(target, renderReport(results, about));
  return target;
}

/** The "What it shows" paragraph of the experiment's own script header: one source for both. */
async function whatItShows(experiment: string): Promise<string> {
  try {
    const source = await readFile(new URL(`./${experiment}.ts`, import.meta.url), 'utf8');
    const match = /What it shows:([\s\S]*?)\n \*\s*\n/.exec(source);
    const text = match ? match[1]!.split('\n').map((line) => line.replace(/^\s*\*\s?/, '').trim()).join(' ').trim() : '';
    return text.charAt(0).toUpperCase() + text.slice(1);
  } catch {
    return '';
  }
}

export function renderReport(results: ResultsFile[], about: Record<string, string> = {}): string {
  const lines: string[] = ['# Results', ''];
  const env = results[0]?.environment;
  if (env) {
    const packages = Object.entries(env.packages).map(([name, version]) => `${name} ${version}`).join(', ');
    lines.push(
      `Machine: ${env.cpuModel}, ${env.cpus} cores, ${(env.totalMemBytes / 2 ** 30).toFixed(0)} GiB, ${env.platform}/${env.arch}; ` +
        `Node ${env.node}; ${packages}.`,
      '',
      'Totals are first request sent → last response complete; the model is ceil(N / P) · D.',
      '',
    );
  }

  const blogRun = results.find((r) => r.experiment === 'async-vs-sync');
  if (blogRun) {
    const find = (label: string) => blogRun.measurements.find((m) => m.label === label);
    const [asyncRun, syncRun] = [find('async'), find('sync')];
    lines.push('## The blog, side by side', '');
    lines.push(
      markdownTable(
        ['endpoint', `blog (FastAPI, N = ${BLOG.requests})`, `here (Hono + tinypool, N = ${asyncRun?.concurrency ?? '?'})`, 'model'],
        [
          ['async (`/asyncio-test`)', `${BLOG.asyncSeconds} s`, seconds(asyncRun?.totalMs), seconds(asyncRun?.predictedMs)],
          ['sync (`/sync-test`)', `${BLOG.syncSeconds} s`, seconds(syncRun?.totalMs), seconds(syncRun?.predictedMs)],
        ],
      ),
      '',
      "The blog's 4 s for async is its client: 100 background `curl` processes timed with whole-second `date +%s`.",
      '',
    );
  }

  for (const result of results) {
    lines.push(`## ${result.experiment}`, '');
    if (about[result.experiment]) lines.push(about[result.experiment]!, '');
    lines.push(`Run ${result.createdAt}${result.params?.quick ? ' (--quick)' : ''}; params \`${JSON.stringify(result.params ?? {})}\`.`, '');
    if (result.skipped) {
      lines.push(`Skipped: ${String(result.skipped)}`, '');
      continue;
    }
    lines.push(markdownTable(MEASUREMENT_HEADERS, result.measurements.map(measurementRow)), '');
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
    const charts = result.charts as ChartFiles | undefined;
    if (charts?.sweep) lines.push(`![${result.experiment}: measured vs model](${charts.sweep})`, '');
    for (const [label, file] of Object.entries(charts?.timelines ?? {})) lines.push(`![${result.experiment} · ${label}](${file})`, '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}


if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { parseScriptFlags } = await import('./lib/cli.ts');
  const flags = parseScriptFlags({ about: 'Regenerates REPORT.md from the JSON results in --out.', defaultOut: DEFAULT_RESULTS_DIR, numbers: {} });
  console.log(`wrote ${await writeReport(resultsDir(flags.out))}`);
}
