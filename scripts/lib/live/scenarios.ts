/**
 * The live page's scenarios (scripts/live.ts): each one a lesson the suite already measures, with its own script's
 * defaults; the settings a page or a link may ask for, checked; the server each needs; and the model's prediction,
 * nominal before the server has been timed, from w and the cores measured on it after. What the page is streamed is
 * ./live-events.ts.
 *
 * About 270 lines, half of them the scenario table: data, each scenario's lesson and defaults in one place.
 */
import type { ServerOptions } from '../processes/start-server.ts';
import { predictCpuTotalMs, predictCpuWaveMs, predictTotalMs, predictWaves } from '../model/model.ts';

export const SCENARIOS = ['async', 'sync', 'blocking-loop', 'cpu-loop', 'cpu-pool', 'db', 'hash', 'workers'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** What a learner sets: every field is there (defaults filled in); a scenario uses the ones it names. */
export interface Settings {
  scenario: ScenarioName;
  /** N: requests fired at once. */
  requests: number;
  /** D: how long each request waits or blocks, ms; for CPU work, about how much work each is (w is then measured). */
  delayMs: number;
  /** P: the pool's threads (the database pool's connections for db; per process for workers). */
  pool: number;
  /** libuv's threadpool size (UV_THREADPOOL_SIZE) for hash. */
  threads: number;
  /** K: processes for workers. */
  workers: number;
}
export type SettingName = Exclude<keyof Settings, 'scenario'>;

export interface Scenario {
  name: ScenarioName;
  title: string;
  /** The lesson, in a sentence or two. */
  about: string;
  /** The route fired at. */
  endpoint: string;
  /** The settings this scenario reads, beside the scenario itself. */
  uses: SettingName[];
  defaults: Omit<Settings, 'scenario'>;
  /** The script that measures the same thing, for the reader who wants the full run. */
  script: string;
}

const common = { requests: 100, delayMs: 3000, pool: 40, threads: 4, workers: 2 };

export const SCENARIO_TABLE: Record<ScenarioName, Scenario> = {
  async: {
    name: 'async',
    title: 'async: an awaited 3 s timer',
    about: 'The blog’s async endpoint: every request awaits a timer on the one event loop; nothing limits them: one wave.',
    endpoint: '/asyncio-test',
    uses: ['requests', 'delayMs'],
    defaults: common,
    script: 'async-vs-sync.ts',
  },
  sync: {
    name: 'sync',
    title: 'sync: a blocking 3 s call in a pool of 40',
    about: 'The blog’s sync endpoint: each request blocks a pool thread; 40 threads serve 100 requests in three waves.',
    endpoint: '/sync-test',
    uses: ['requests', 'delayMs', 'pool'],
    defaults: common,
    script: 'async-vs-sync.ts',
  },
  'blocking-loop': {
    name: 'blocking-loop',
    title: 'the same blocking call on the event loop',
    about:
      'No pool: the blocking call runs on the event loop itself, one request at a time, and nothing else runs meanwhile (see the gap in the gauges).',
    endpoint: '/blocking-loop-test',
    uses: ['requests', 'delayMs'],
    defaults: { ...common, requests: 5, delayMs: 1000 },
    script: 'blocking-event-loop.ts',
  },
  'cpu-loop': {
    name: 'cpu-loop',
    title: 'CPU work on the event loop',
    about: 'CPU work on the one event loop: one request at a time, N · w.',
    endpoint: '/cpu-loop-test',
    uses: ['requests', 'delayMs'],
    defaults: { ...common, requests: 8, delayMs: 200 },
    script: 'cpu-bound.ts',
  },
  'cpu-pool': {
    name: 'cpu-pool',
    title: 'CPU work in the pool',
    about: 'The same CPU work in worker threads: side by side, as fast as the cores allow (threads beyond the cores share them).',
    endpoint: '/cpu-pool-test',
    uses: ['requests', 'delayMs', 'pool'],
    defaults: { ...common, requests: 8, delayMs: 200 },
    script: 'cpu-bound.ts',
  },
  db: {
    name: 'db',
    title: 'a PostgreSQL query through node-postgres’ pool of 10',
    about: 'SELECT pg_sleep(D) through node-postgres’ pool: 10 connections, so waves of 10.',
    endpoint: '/db-test',
    uses: ['requests', 'delayMs', 'pool'],
    defaults: { ...common, pool: 10 },
    script: 'database-pool.ts',
  },
  hash: {
    name: 'hash',
    title: 'async hashes on libuv’s threadpool',
    about:
      'Async crypto.pbkdf2 runs on libuv’s 4 threads, which share the cores; a file read, also on those threads, waits behind them (its wait is the gauge).',
    endpoint: '/hash-test',
    uses: ['requests', 'delayMs', 'threads'],
    defaults: { ...common, requests: 12, delayMs: 200 },
    script: 'libuv-pool.ts',
  },
  workers: {
    name: 'workers',
    title: 'K processes, a pool in each',
    about:
      'node:cluster: K processes, each with its own event loop and pool of P; the kernel deals out the connections, so the split is not always even.',
    endpoint: '/sync-test',
    uses: ['requests', 'delayMs', 'pool', 'workers'],
    defaults: common,
    script: 'workers.ts',
  },
};

/** The range each setting may take on the page: a burst the browser can draw, a server this machine can start. */
export const LIMITS: Record<SettingName, { min: number; max: number; label: string }> = {
  requests: { min: 1, max: 1000, label: 'N, requests at once' },
  delayMs: { min: 10, max: 60_000, label: 'D, ms each' },
  pool: { min: 1, max: 256, label: 'P, pool size' },
  threads: { min: 1, max: 128, label: 'libuv threads' },
  workers: { min: 1, max: 8, label: 'K, processes' },
};

/** The database scenario's pool must fit PostgreSQL's max_connections of the throwaway cluster (100, some reserved). */
export const DB_POOL_MAX = 90;

/** A setting that was refused, FastAPI-shaped (the page shows `msg`; `loc` names the field). */
export interface SettingError {
  type: 'value_error';
  loc: string[];
  msg: string;
  input: unknown;
}

/** Settings from a query string (or a request body): the scenario's defaults, then what is given, checked. */
export function readSettings(
  given: Record<string, unknown>,
  where = 'query',
): { settings: Settings } | { errors: SettingError[] } {
  const errors: SettingError[] = [];
  const refuse = (field: string, msg: string, input: unknown) =>
    errors.push({ type: 'value_error', loc: [where, field], msg, input });
  const scenario = given.scenario ?? 'sync';
  if (typeof scenario !== 'string' || !(SCENARIOS as readonly string[]).includes(scenario)) {
    refuse('scenario', `scenario must be one of ${SCENARIOS.join(', ')}`, scenario);
    return { errors };
  }
  const table = SCENARIO_TABLE[scenario as ScenarioName];
  const settings: Settings = { scenario: table.name, ...table.defaults };
  for (const name of Object.keys(LIMITS) as SettingName[]) {
    const raw = given[name];
    if (raw === undefined || raw === null || raw === '') continue;
    const value = typeof raw === 'number' ? raw : /^\d+$/.test(String(raw)) ? Number(raw) : Number.NaN;
    const { min, max, label } = LIMITS[name];
    const most = name === 'pool' && scenario === 'db' ? DB_POOL_MAX : max;
    if (!Number.isInteger(value) || value < min || value > most) {
      refuse(name, `${name} (${label}) must be a whole number from ${min} to ${most}`, raw);
    } else settings[name] = value;
  }
  return errors.length > 0 ? { errors } : { settings };
}

/** What server.ts needs to be started with for these settings (a different one means a restart). */
export interface ServerConfig {
  /** server.ts's settings (its iterations and database added once known). */
  settings: ServerOptions;
  env: Record<string, string>;
  /** Which work to calibrate to D ms in this process before starting: its iterations go in the settings. */
  work: 'cpu' | 'hash' | null;
  database: boolean;
}

export function serverConfigOf(s: Settings): ServerConfig {
  const base = { settings: { poolSize: 1, delayMs: s.delayMs }, env: {}, work: null, database: false };
  switch (s.scenario) {
    case 'async':
    case 'blocking-loop':
      return base;
    case 'sync':
      return { ...base, settings: { ...base.settings, poolSize: s.pool } };
    case 'cpu-loop':
      return { ...base, work: 'cpu' };
    case 'cpu-pool':
      return { ...base, settings: { ...base.settings, poolSize: s.pool }, work: 'cpu' };
    case 'db':
      return { ...base, settings: { ...base.settings, dbPoolSize: s.pool }, database: true };
    case 'hash':
      return { ...base, env: { UV_THREADPOOL_SIZE: String(s.threads) }, work: 'hash' };
    case 'workers':
      return { ...base, settings: { ...base.settings, poolSize: s.pool, workers: s.workers } };
  }
}

/** CPU work as the server under test does it: w and each core's time while all are busy, measured on it. */
export interface Calibration {
  workMs: number;
  coreMs: number[];
}

/** The model's prediction for a burst, with the wave boundaries to draw behind the bars. */
export interface Model {
  predictedMs: number;
  /** Where each wave is due to end, ms from the burst's start. */
  boundariesMs: number[];
  /** The formula with its figures, e.g. "ceil(100 / 40) · 3000 ms". */
  formula: string;
  /** Nominal: D stands in for w, and equal cores for the ones the server will get (not timed yet). */
  nominal: boolean;
}

/** The model for these settings; CPU scenarios use the calibration where the server has been timed. */
export function modelOf(s: Settings, calibration: Calibration | null, cores: number): Model {
  const n = s.requests;
  const d = s.delayMs;
  const waves = (p: number) => predictWaves({ requests: n, poolSize: p, delayMs: d });
  const steps = (count: number, each: number) => Array.from({ length: count }, (_, i) => round((i + 1) * each));
  const pool = (p: number, note: string): Model => ({
    predictedMs: predictTotalMs({ requests: n, poolSize: p, delayMs: d }),
    boundariesMs: steps(waves(p), d),
    formula: `ceil(${n} / ${p}) · ${d} ms${note}`,
    nominal: false,
  });
  switch (s.scenario) {
    case 'async':
      return { predictedMs: d, boundariesMs: [d], formula: `${d} ms: one wave, nothing limits an awaited timer`, nominal: false };
    case 'sync':
      return pool(s.pool, '');
    case 'db':
      return pool(s.pool, ' (the database pool)');
    case 'blocking-loop':
      return pool(1, ': the event loop is a pool of one');
    case 'workers': {
      const each = Math.ceil(n / s.workers);
      return {
        predictedMs: predictTotalMs({ requests: n, poolSize: s.workers * s.pool, delayMs: d }),
        boundariesMs: steps(Math.ceil(each / s.pool), d),
        formula: `ceil(${n} / (${s.workers} · ${s.pool})) · ${d} ms, if the connections are dealt out evenly`,
        nominal: false,
      };
    }
    case 'cpu-loop':
    case 'cpu-pool':
    case 'hash': {
      const w = calibration?.workMs ?? d;
      const coreMs = calibration?.coreMs ?? Array.from({ length: cores }, () => d);
      const threads = s.scenario === 'cpu-loop' ? 1 : s.scenario === 'hash' ? s.threads : s.pool;
      const work = { requests: n, poolSize: threads, workMs: w, coreMs };
      const wave = predictCpuWaveMs(work);
      const predictedMs = predictCpuTotalMs(work);
      const inputs = `w = ${round(w)} ms${calibration ? ' measured on the server' : ' (nominal: D, not yet timed)'}, ${coreMs.length} cores`;
      return {
        predictedMs: round(predictedMs),
        boundariesMs: steps(Math.ceil(n / threads), wave),
        formula:
          threads === 1
            ? `${n} · w, ${inputs}`
            : `ceil(${n} / ${threads}) waves of ${round(wave)} ms (${threads} threads on ${coreMs.length} cores), ${inputs}`,
        nominal: calibration === null,
      };
    }
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;
