/**
 * report — REPORT.md from the JSON results already in a folder, without running anything.
 *
 * Run:    npx tsx scripts/report.ts [--out results]
 * Expect: results/REPORT.md: the machine, the blog's figures beside ours, one section per experiment.
 * Takes:  well under a second. run-all.ts calls it at the end of every run.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readResults, resultsDir, writeAtomically, DEFAULT_RESULTS_DIR, type ResultsFile, type Measurement } from './lib/results.ts';
import { markdownTable, ms } from './lib/table.ts';

/** The blog's published figures (100 concurrent requests, 3 s each, timed with curl and `date +%s`). */
export const BLOG = { requests: 100, delayMs: 3000, asyncSeconds: 4, syncSeconds: 9 };

export async function writeReport(dir: string): Promise<string> {
  const files = (await readdir(dir)).filter((name) => name.endsWith('.json') && name !== 'summary.json').sort();
  const results: ResultsFile[] = [];
  for (const name of files) {
    try {
      results.push(await readResults(join(dir, name)));
    } catch {
      // A foreign or broken file is not ours to report.
    }
  }
  const target = join(dir, 'REPORT.md');
  await writeAtomically(target, renderReport(results));
  return target;
}

export function renderReport(results: ResultsFile[]): string {
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
    lines.push(`## ${result.experiment}`, '', `Run ${result.createdAt}; params \`${JSON.stringify(result.params)}\`.`, '');
    if (result.skipped) {
      lines.push(`Skipped: ${String(result.skipped)}`, '');
      continue;
    }
    lines.push(measurementTable(result.measurements), '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

export function measurementTable(measurements: Measurement[]): string {
  return markdownTable(
    ['measurement', 'endpoint', 'N', 'P', 'D ms', 'total ms', 'model ms', 'ratio', 'p50 ms', 'p99 ms', 'ok', 'errors'],
    measurements.map((m) => [
      m.label,
      `\`${m.endpoint}\``,
      m.concurrency,
      m.poolSize ?? '–',
      m.delayMs,
      ms(m.totalMs),
      ms(m.predictedMs),
      m.predictedMs ? (m.totalMs / m.predictedMs).toFixed(3) : '–',
      ms(m.latencyMs.p50),
      ms(m.latencyMs.p99),
      m.ok,
      m.errors,
    ]),
  );
}

export function seconds(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : `${(value / 1000).toFixed(3)} s`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { parseScriptFlags } = await import('./lib/cli.ts');
  const flags = parseScriptFlags({ about: 'Regenerates REPORT.md from the JSON results in --out.', defaultOut: DEFAULT_RESULTS_DIR, numbers: {} });
  console.log(`wrote ${await writeReport(resultsDir(flags.out))}`);
}
