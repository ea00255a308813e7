/**
 * The tables of the pages in docs/ and scripts/README.md: fidelity's bursts and targets, find-pool's findings (its
 * self-check, a run against server.ts, servers this project did not write), and every script's time in the
 * committed run.
 */
import { readFileSync } from 'node:fs';
import { formatFigure, type PageTable, type ResultsReader } from '../lib/view/figures.ts';
import { FIDELITY } from '../lib/results/labels.ts';
import { judgeMedianAtMost, verdictWord } from '../lib/model/targets.ts';
import { RATIO_LIMIT } from '../lib/model/fidelity-targets.ts';
import type { Finding } from '../lib/find-pool/verdict.ts';
import type { FidelityResults } from '../fidelity.ts';
import type { FindPoolResults } from '../find-pool.ts';
import { measured, pageTable, resultsFile } from './cells.ts';

/** fidelity: both clients' medians, their paired ratio (its interval and coverage), and the server's account. */
const fidelity: PageTable = (results) => {
  const file = resultsFile<FidelityResults>(results, `${FIDELITY.experiment}.json`);
  const sizes = file.params.sizes as number[];
  const ms1 = (ms: number | undefined) => (ms === undefined ? '–' : formatFigure(ms, 'ms1'));
  const rows = (['trivial', 'async'] as const).flatMap((kind) =>
    sizes.map((n) => {
      const suite = measured(file, FIDELITY.burst(kind, 'suite', n));
      const reference = measured(file, FIDELITY.burst(kind, 'reference', n));
      const paired = file.pairedRatios[FIDELITY.burst(kind, 'suite', n)];
      const account = file.accounts[FIDELITY.burst(kind, 'suite', n)];
      const burst =
        kind === 'trivial'
          ? `\`/health\`, N = ${formatFigure(n, 'n0')}`
          : `async, D = ${formatFigure(suite.delayMs, 's0')}, N = ${formatFigure(n, 'n0')}`;
      return [
        burst,
        String(suite.repeats?.totalsMs.length ?? 1),
        ms1(suite.totalMs),
        ms1(reference.totalMs),
        paired ? ratioWithInterval(paired) : '–',
        ms1(account?.intakeMs),
        ms1(account?.outputMs),
        ms1(account?.accountedMs),
      ];
    }),
  );
  return pageTable(
    [
      'burst',
      'pairs',
      'suite client (median)',
      'reference client',
      'suite ÷ reference, paired',
      'intake',
      'output',
      'D + intake + output',
    ],
    rows,
    [false, true, true, true, true, true, true, true],
  );
};

/** "1.012 (0.854–1.227, 97 %)": the median of the paired ratios, its interval and how often such an interval holds it. */
function ratioWithInterval(p: { median: number; low: number; high: number; coverage: number }): string {
  return `${formatFigure(p.median, 'n3')} (${formatFigure(p.low, 'n3')}–${formatFigure(p.high, 'n3')}, ${formatFigure(p.coverage, 'pct0')})`;
}

/**
 * fidelity's ratio targets, judged again from the committed intervals by today's rule (scripts/lib/model/targets.ts),
 * so a file written before that rule shows what it can and cannot claim.
 */
const fidelityTargets: PageTable = (results) => {
  const file = resultsFile<FidelityResults>(results, `${FIDELITY.experiment}.json`);
  const rows = (['async', 'trivial'] as const).flatMap((kind) =>
    (file.params.sizes as number[])
      .filter((n) => n >= 1000)
      .map((n) => {
        const paired = file.pairedRatios[FIDELITY.burst(kind, 'suite', n)] ?? null;
        const { verdict, why } = judgeMedianAtMost(paired, RATIO_LIMIT);
        return [
          `${kind === 'trivial' ? '`/health`' : 'async'}, N = ${formatFigure(n, 'n0')}`,
          paired ? ratioWithInterval(paired) : '–',
          `${verdictWord(verdict)}${why ? `: ${why}` : ''}`,
        ];
      }),
  );
  return pageTable(['suite ÷ reference, paired runs', `median (interval, coverage)`, `≤ ${RATIO_LIMIT}?`], rows, [
    false,
    true,
    false,
  ]);
};

/** What a finding says, in a table cell: its kind and P. */
export function found(f: Finding): string {
  switch (f.kind) {
    case 'pool':
      return f.grewFrom === undefined ? `pool of **${f.poolSize}**` : `pool of **${f.poolSize}**, grew from ${f.grewFrom}`;
    case 'none':
      return `no limit (up to ${f.maxRequestsTried})`;
    case 'cpu':
      return `CPU work${f.poolSize === null ? '' : `, steps of ${f.poolSize}`}`;
    case 'uneven': {
      const [low, high] = f.poolSizeRange ?? [null, null];
      const processes = Object.keys(f.perWorker ?? {}).length;
      const range = low === high ? `${low}` : `${low} to ${high ?? '?'}`;
      return processes > 1 ? `${processes} processes, **${range}** at once` : `uneven, **${range}** at once`;
    }
    case 'undecided':
      return 'undecided';
  }
}

/** The endpoint of a finding's target: its path, `{id}` and all. */
const pathOf = (target: string) => new URL(target.replace('{id}', '0')).pathname.replace(/0$/, '{id}');

/** find-pool's self-check: each of the suite's own endpoints, started with settings it is not told, and what it found. */
const findPoolSelfCheck: PageTable = (results) => {
  const file = resultsFile<FindPoolResults>(results, 'find-pool.json');
  return pageTable(
    ['server, started with', 'endpoint', 'found', 'D', 'refused beyond', 'bursts took'],
    file.findings.map((f) => [
      f.configured?.note ?? '–',
      `\`${pathOf(f.target)}\``,
      found(f),
      formatFigure(f.delayMs, 's3'),
      f.refusedBeyond === null ? '–' : String(f.refusedBeyond),
      formatFigure(f.elapsedMs, 's1'),
    ]),
    [false, false, false, true, true, true],
  );
};

/** find-pool against server.ts as it starts: every burst, beside the model for the P it found. */
const findPoolBursts: PageTable = (results) => {
  const file = resultsFile<FindPoolResults>(results, 'find-pool-server-40/find-pool.json');
  return pageTable(
    ['N', 'total', 'model', 'waves', 'ok', 'not ok'],
    file.measurements.map((m) => [
      String(m.concurrency),
      formatFigure(m.totalMs, 'ms0'),
      m.predictedMs === null ? '–' : formatFigure(m.predictedMs, 'ms0'),
      (m.waves ?? []).join(', ') || '–',
      String(m.ok),
      String(m.errors),
    ]),
    [true, true, true, false, true, true],
  );
};

/** The servers find-pool was tried on (reference/outside/run.sh), each as Debian packages it, and why its P is what it is. */
const OUTSIDE: { folder: string; server: string; why: string }[] = [
  {
    folder: 'gunicorn',
    server: 'gunicorn 20.1 (`gunicorn app:app`)',
    why: 'one sync worker by default, one request at a time; `--workers` or `--threads` raise it',
  },
  { folder: 'waitress', server: 'waitress 2.1 (`waitress-serve app:app`)', why: '`threads = 4` by default' },
  {
    folder: 'php-fpm',
    server: "php-fpm 8.2 behind nginx (Debian's `www` pool)",
    why: '`pm.max_children = 5`; `pm = dynamic` starts 2 children and forks more under load',
  },
  {
    folder: 'mod_wsgi-daemon',
    server: 'Apache 2.4 + mod_wsgi, daemon mode (`WSGIDaemonProcess` defaults)',
    why: 'one daemon process of 15 threads',
  },
  {
    folder: 'apache-embedded',
    server: 'Apache 2.4 + mod_wsgi, embedded (mpm_event)',
    why: '`MaxRequestWorkers 150` in processes of 25 threads, forked as spare threads run out and ended when idle',
  },
  {
    folder: 'tomcat',
    server: "Tomcat 10.1 (Debian's `server.xml`, its HTTP connector as it comes)",
    why: "`maxThreads` 200; its backlog (`acceptCount` 100) and one acceptor took some connections a second late, read from each request's own start",
  },
  { folder: 'tomcat-50', server: 'Tomcat 10.1, `maxThreads="50"` on the connector', why: 'the one setting changed' },
  {
    folder: 'jetty',
    server: 'Jetty 9.4 (`--module=http,deploy,jsp`)',
    why: "a `QueuedThreadPool` of 200, less a few Jetty keeps for itself, behind a listen backlog of 50 (Java's default where `acceptQueueSize` is 0): every burst beyond 51 lost connections to a SYN sent again a second later, so N = P + 1 never arrived at once",
  },
  {
    folder: 'jetty-40',
    server: 'Jetty 9.4, `jetty.threadPool.maxThreads=40`',
    why: "the one setting changed: 40, less the 2 to 4 Jetty held for itself from burst to burst here (its connector's acceptor and selector among them)",
  },
  { folder: 'puma', server: 'Puma 5.6 (`puma config.ru`)', why: 'threads `0:5` by default, one process' },
  { folder: 'puma-8', server: 'Puma 5.6, `puma -t 8:8`', why: 'the one setting changed' },
  {
    folder: 'unicorn',
    server: 'Unicorn 6.0 (`unicorn config.ru`)',
    why: '`worker_processes 1` by default, one request per process',
  },
  {
    folder: 'unicorn-3',
    server: 'Unicorn 6.0, `worker_processes 3`',
    why: 'the one setting changed: three processes on one socket, each taking a connection only when free',
  },
];

const findPoolOutside: PageTable = (results) =>
  pageTable(
    ['server, as packaged', 'found', 'D', 'bursts took', 'why that P'],
    OUTSIDE.map(({ folder, server, why }) => {
      const f = onlyFinding(results, `outside/${folder}/find-pool.json`);
      return [server, found(f), formatFigure(f.delayMs, 's3'), formatFigure(f.elapsedMs, 's1'), why];
    }),
    [false, false, true, true, false],
  );

function onlyFinding(results: ResultsReader, file: string): Finding {
  const [finding] = resultsFile<FindPoolResults>(results, file).findings;
  if (!finding) throw new Error(`${file} has no finding`);
  return finding;
}

/** Every script run-all ran, what it shows (its header's first line) and how long it took in the committed run. */
const scripts: PageTable = (results) => {
  const summary = results.json('summary.json') as { experiments: { script: string; durationMs: number; status: string }[] };
  return pageTable(
    ['script', 'what it shows', 'committed run'],
    summary.experiments.map((run) => [
      `\`${run.script.replace(/^scripts\//, '')}\``,
      whatItIs(run.script),
      run.status === 'ok' ? formatFigure(run.durationMs, 'dur') : run.status,
    ]),
    [false, false, true],
  );
};

/** A script's header, first line: "async-vs-sync — the blog's test.sh, for Node." → "the blog's test.sh, for Node". */
function whatItIs(script: string): string {
  const header = readFileSync(new URL(`../../${script}`, import.meta.url), 'utf8');
  const line = /^ \* [\w-]+ — (.*)$/m.exec(header)?.[1] ?? '';
  return line.replace(/\.$/, '');
}

export const DOCS_TABLES: Record<string, PageTable> = {
  fidelity,
  'fidelity-targets': fidelityTargets,
  'find-pool-self-check': findPoolSelfCheck,
  'find-pool-bursts': findPoolBursts,
  'find-pool-outside': findPoolOutside,
  scripts,
};
