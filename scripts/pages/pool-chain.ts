/**
 * The tables of docs/pool-chain.md, from results/pool-chain.json: every chain beside its model, what the primary
 * said at start, what find-pool found, and the hang-up lesson. Where the results folder has no pool-chain.json yet
 * (the experiment came after the committed run), each table says so in one line instead, and report.ts writes it once
 * the file is there.
 */
import { FigureError, formatFigure, type PageTable, type ResultsReader } from '../lib/view/figures.ts';
import { POOL_CHAIN } from '../lib/results/labels.ts';
import type { Measurement } from '../lib/results/types.ts';
import type { PoolChainMeasurement, PoolChainResults } from '../pool-chain.ts';
import { measured, model, pageTable, resultsFile, withRange } from './cells.ts';
import { found } from './docs.ts';
import { intakeMs, ratioWithIntake } from '../lib/measure/server-account.ts';

const FILE = `${POOL_CHAIN.experiment}.json`;

/** The file, or null where this results folder has none yet. */
function chainResults(results: ResultsReader) {
  try {
    return resultsFile<PoolChainResults, PoolChainMeasurement>(results, FILE);
  } catch (error) {
    if (error instanceof FigureError && /\(ENOENT\)/.test(error.message)) return null;
    throw error;
  }
}

const NOT_RUN = `_Not measured in the committed run yet: \`npx tsx scripts/pool-chain.ts\` writes \`results/${FILE}\`, and \`npx tsx scripts/report.ts\` this table from it._`;

/** Each chain: its links, what it runs at once, its total beside the model of the chain, and its refusals. */
const chains: PageTable = (results) => {
  const file = chainResults(results);
  if (!file) return NOT_RUN;
  const limit = file.postgres.connectionLimit;
  const rows = file.measurements
    .filter((m) => m.connectionsOpened !== undefined)
    .map((m) => {
      const k = m.workers ?? 1;
      const p = m.dbPool!;
      const modelMs = m.predictedFromSplitMs ?? m.predictedMs;
      return [
        `${k} × ${p} = ${k * p}${!m.pooler && k * p > limit ? ` (> ${limit})` : ''}`,
        m.pooler ? `PgBouncer, a pool of ${m.poolerPoolSize}` : '–',
        String(m.poolSize ?? '–'),
        Object.values(m.connectionsOpened!).join(' + '),
        withRange(m),
        model(modelMs),
        formatFigure(intakeMs(m.server), 'ms0'),
        formatFigure(ratioWithIntake(m.totalMs, modelMs, m.server), 'n3'),
        refused(m),
      ];
    });
  return pageTable(
    [
      'K processes × P connections',
      'pooler',
      'at once (the smallest link)',
      'connections opened',
      'total',
      'model',
      'intake',
      'total ÷ (model + intake)',
      'refused (model)',
    ],
    rows,
    [false, false, true, false, true, true, true, true, true],
  );
};

/** "3 (3)": the 503s, and the model's count from the connections each process opened and its share of the burst. */
function refused(m: Measurement<PoolChainMeasurement>): string {
  if (m.expectedRefused === undefined || m.expectedRefused === 0) return m.errors === 0 ? '0' : `${m.errors} (0)`;
  return `${m.errors} (${m.expectedRefused ?? 'not predicted'})`;
}

/** find-pool, from the outside, at two chains: what it found beside each chain's smallest link. */
const findings: PageTable = (results) => {
  const file = chainResults(results);
  if (!file) return NOT_RUN;
  return pageTable(
    ['chain', 'its smallest pool', 'find-pool found', 'D', 'bursts took'],
    file.findings.map((f) => [
      chainName(file, f.chain),
      String(f.predictedPoolSize),
      found(f),
      formatFigure(f.delayMs, 's3'),
      formatFigure(f.elapsedMs, 's1'),
    ]),
    [false, true, false, true, true],
  );
};

/** What the primary said at start, where the pools did not fit, quoted. */
const said: PageTable = (results) => {
  const file = chainResults(results);
  if (!file) return NOT_RUN;
  const statements = file.measurements.filter((m) => m.startupStatement);
  if (statements.length === 0) return '_Every chain fitted the role’s limit: the primary had nothing to say._';
  return statements.map((m) => `> ${m.startupStatement}`).join('\n>\n');
};

/** The hang-up lesson: how long PostgreSQL slept on for clients that had left, and what the next burst paid for it. */
const hangUps: PageTable = (results) => {
  const file = chainResults(results);
  if (!file) return NOT_RUN;
  const ms0 = (ms: number | null) => (ms === null ? 'not by the deadline' : formatFigure(ms, 'ms0'));
  return pageTable(
    [
      'the server',
      'no `pg_sleep` left after',
      'its pool idle after',
      'the leftovers’ model',
      `the next ${file.hangUps[0]?.dbPool ?? 'P'}: total`,
      'its model',
      'its model, after the leftovers',
    ],
    file.hangUps.map((h) => {
      const next = measured(file, h.next);
      return [
        h.dbCancel ? 'cancels (`--db-cancel on`)' : 'does not (`--db-cancel off`)',
        ms0(h.noSleepAfterMs),
        ms0(h.poolIdleAfterMs),
        model(h.leftoversModelMs),
        withRange(next),
        model(next.predictedMs),
        model(next.afterHangUp?.modelWithLeftoversMs),
      ];
    }),
    [false, true, true, true, true, true, true],
  );
};

/** "4 × 40 behind PgBouncer" for a chain's label. */
function chainName(file: { measurements: Measurement<PoolChainMeasurement>[] }, label: string): string {
  const m = file.measurements.find((x) => x.label === label);
  if (!m) return label;
  return `${m.workers ?? 1} × ${m.dbPool}${m.pooler ? ', behind PgBouncer' : ''}`;
}

export const POOL_CHAIN_TABLES: Record<string, PageTable> = {
  'pool-chain': chains,
  'pool-chain-found': findings,
  'pool-chain-said': said,
  'pool-chain-hang-up': hangUps,
};
