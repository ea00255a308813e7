/**
 * The tables of docs/runtimes.md (and the README's section on other runtimes), written from results/runtimes.json: each
 * runtime's pool and costs, its hidden pool under hashes and FIFO opens, a file read beside the hashes. Until a run of
 * scripts/runtimes.ts is committed, each says so in one line instead.
 */
import { FigureError, formatFigure, type PageTable, type ResultsReader } from '../lib/view/figures.ts';
import { splitText } from '../lib/view/table.ts';
import { RUNTIMES_EXPERIMENT as LABELS } from '../lib/results/labels.ts';
import type { ResultsFile } from '../lib/results/types.ts';
import type { RuntimesResults, RuntimeRow } from '../runtimes.ts';
import { measured, model, pageTable, resultsFile, withRange } from './cells.ts';

const FILE = `${LABELS.experiment}.json`;
const NOT_YET = `_No run of \`scripts/runtimes.ts\` is committed yet: \`npx tsx scripts/runtimes.ts\` writes ${FILE}, and \`npx tsx scripts/report.ts\` this table._`;

type Runtimes = ResultsFile<RuntimesResults>;

/** The table from the committed results, or the one line that says there are none yet. */
const fromRuns =
  (table: (file: Runtimes) => string): PageTable =>
  (results: ResultsReader) => {
    let file: Runtimes;
    try {
      file = resultsFile<RuntimesResults>(results, FILE);
    } catch (error) {
      if (error instanceof FigureError && /ENOENT/.test(error.message)) return NOT_YET;
      throw error;
    }
    return table(file);
  };

const ran = (file: Runtimes) =>
  file.runtimes.filter((r): r is RuntimeRow & { runtimeVersion: string } => r.runtimeVersion !== null);
const ms0 = (ms: number) => formatFigure(ms, 'ms0');

/** Each runtime: where blocking work goes and how big that pool is, the blog's figures, and what it costs. */
const runtimes: PageTable = fromRuns((file) => {
  const delay = Number(file.params.delayMs);
  const many = Number(file.params.manyRequests);
  const workers = Number(file.params.workers);
  return pageTable(
    [
      'runtime',
      'version',
      'async crypto and fs run on',
      'its size here (FIFO waves)',
      'how to change it',
      `async (model ${model(delay)})`,
      `sync, ${file.params.pool} threads`,
      `${formatFigure(many, 'n0')} async: total (D + intake + output)`,
      `RSS, ${file.params.pool} threads warm`,
      `--workers ${workers}`,
    ],
    file.runtimes.map((r) => {
      if (r.runtimeVersion === null) return [r.runtime, `skipped: ${r.missing}`, '', '', '', '', '', '', '', ''];
      const sync = measured(file, LABELS.sync(r.runtime));
      const fifo = r.fifo?.find((f) => f.threadpool === null);
      const fifoWaves = fifo ? measured(file, fifo.label).waves : undefined;
      const big = measured(file, LABELS.manyAsync(r.runtime, many));
      const cluster = r.cluster && 'label' in r.cluster ? measured(file, r.cluster.label) : null;
      return [
        r.runtime,
        r.runtimeVersion,
        r.hiddenPool?.name ?? '–',
        fifoWaves ? `${fifoWaves[0]} (waves ${fifoWaves.join(', ')})` : '–',
        r.hiddenPool?.sizedBy ?? '–',
        withRange(measured(file, LABELS.async(r.runtime))),
        `${withRange(sync)} (model ${model(sync.predictedMs)})`,
        `${formatFigure(big.totalMs, 's3')}${r.manyAsync ? ` (${formatFigure(r.manyAsync.accountedMs, 's3')})` : ''}`,
        r.atReady ? formatFigure(r.atReady.rssBytes, 'mb0') : '–',
        cluster
          ? `${withRange(cluster)}, split ${splitText(cluster.perWorker ?? {}, { count: workers })} (model ${model(cluster.predictedFromSplitMs)})`
          : r.cluster && 'refused' in r.cluster
            ? 'refused: cannot run here'
            : '–',
      ];
    }),
    [false, false, false, false, false, true, true, true, true, false],
  );
});

/** The README's few columns: each runtime's hidden pool, the blog's two figures, its memory with the blog's pool. */
const brief: PageTable = fromRuns((file) =>
  pageTable(
    [
      'runtime',
      'async crypto and fs run on',
      'its size here',
      `${file.params.requests} async (model ${model(Number(file.params.delayMs))})`,
      `${file.params.requests} sync, ${file.params.pool} threads`,
      `RSS, ${file.params.pool} threads warm`,
    ],
    ran(file).map((r) => {
      const sync = measured(file, LABELS.sync(r.runtime));
      const fifo = r.fifo?.find((f) => f.threadpool === null);
      return [
        `${r.runtime} ${r.runtimeVersion}`,
        r.hiddenPool?.name ?? '–',
        fifo ? String(measured(file, fifo.label).waves?.[0] ?? '–') : '–',
        withRange(measured(file, LABELS.async(r.runtime))),
        `${withRange(sync)} (model ${model(sync.predictedMs)})`,
        r.atReady ? formatFigure(r.atReady.rssBytes, 'mb0') : '–',
      ];
    }),
    [false, false, true, true, true, true],
  ),
);

/** The hidden pool at each UV_THREADPOOL_SIZE: its size (/stats), its threads (/proc), under hashes and FIFO opens. */
const hiddenPool: PageTable = fromRuns((file) => {
  const hashes = Number(file.params.hashes);
  const opens = Number(file.params.fifoRequests);
  const rows = ran(file).flatMap((r) => {
    const settings = [...new Set([...(r.hashes ?? []), ...(r.fifo ?? [])].map((x) => x.threadpool))];
    return settings.map((threadpool) => {
      const hash = r.hashes?.find((h) => h.threadpool === threadpool);
      const fifo = r.fifo?.find((f) => f.threadpool === threadpool);
      const of = (label: string) => measured(file, label);
      const threads = (x: { threadsBefore: number | null; threadsDuring: number | null } | undefined) =>
        x ? `${x.threadsBefore ?? '?'} → ${x.threadsDuring ?? '?'}` : '–';
      return [
        r.runtime,
        threadpool === null ? 'unset' : String(threadpool),
        String(hash?.poolSize ?? fifo?.poolSize ?? '–'),
        hash ? `${threads(hash)} (${hash.countedBy})` : '–',
        hash ? `${ms0(of(hash.label).totalMs)} (model ${ms0(of(hash.label).predictedMs!)})` : '–',
        hash ? `${(of(hash.label).waves ?? []).join(', ')}; ${formatFigure(hash.effectiveParallelism, 'n2')} side by side` : '–',
        fifo ? threads(fifo) : '–',
        fifo ? `${ms0(of(fifo.label).totalMs)} (model ${ms0(of(fifo.label).predictedMs!)})` : '–',
        fifo
          ? `${(of(fifo.label).waves ?? []).join(', ')} (blocked: ${fifo.rounds
              .map((round) => round.blocked)
              .filter(Boolean)
              .join(', ')})`
          : '–',
      ];
    });
  });
  return pageTable(
    [
      'runtime',
      'UV_THREADPOOL_SIZE',
      'P (its /stats)',
      'threads, before → during the hashes',
      `${hashes} hashes: total`,
      'their waves; requests’ worth side by side',
      'threads during the FIFO opens',
      `${opens} FIFO opens: total`,
      'their waves (threads blocked per round)',
    ],
    rows,
    [false, true, true, false, true, false, false, true, false],
  );
});

/** A one-read /file-test beside the hashes, the pool at its default size: libuv's trap, and where it is not. */
const fileRead: PageTable = fromRuns((file) =>
  pageTable(
    [
      'runtime',
      'pool (P)',
      'a read alone',
      `beside ${file.params.hashes} hashes: p50`,
      'p99',
      'most',
      'model: at most (first in, first out)',
    ],
    ran(file).flatMap((r) => {
      if (!r.fileRead) return [];
      const reads = measured(file, r.fileRead.label);
      const pool = r.hashes?.find((h) => h.threadpool === null)?.poolSize;
      return [
        [
          r.runtime,
          String(pool ?? '–'),
          formatFigure(r.fileRead.aloneMs, 'ms1'),
          formatFigure(reads.latencyMs.p50, 'ms1'),
          formatFigure(reads.latencyMs.p99, 'ms1'),
          formatFigure(reads.latencyMs.max, 'ms1'),
          ms0(r.fileRead.predictedMaxMs),
        ],
      ];
    }),
    [false, true, true, true, true, true, true],
  ),
);

export const RUNTIMES_TABLES: Record<string, PageTable> = {
  runtimes,
  'runtimes-brief': brief,
  'runtimes-hidden-pool': hiddenPool,
  'runtimes-file-read': fileRead,
};
