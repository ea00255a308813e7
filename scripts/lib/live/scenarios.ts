/**
 * The live page's scenarios (scripts/live.ts): each one a lesson the suite already measures, with its own script's
 * defaults, and everything scenario-specific declared on it, in one place: the settings it reads, what each request
 * does on the server (which decides the server it needs and the model), the pool that sets its waves, the gauges the
 * page draws, how its bars are coloured, and its lesson in words that follow the settings. The page and the session
 * read these declarations; neither matches a scenario by its name. Then the settings a page or a link may ask for,
 * checked, and the model's prediction, nominal before the server has been timed, from w and the cores measured on it
 * after. What the page is streamed is ./events.ts.
 *
 * About 380 lines, a third of them the scenario table: data, each scenario's lesson and defaults in one place.
 */
import type { ServerOptions } from '../processes/start-server.ts';
import { findRuntime } from '../processes/runtimes.ts';
import { RUNTIMES, type Runtime } from '../../../server/runtime.ts';
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
  /** What runs server.ts (the burst is fired from Node whatever it is). */
  runtime: Runtime;
}
/** The settings that are whole numbers in a range (LIMITS). */
export type SettingName = Exclude<keyof Settings, 'scenario' | 'runtime'>;

/**
 * The gauges the page can draw, in the order it draws them: the server's pool (threads busy, tasks queued for one)
 * and its database pool (connections in use, queries waiting), exact from the server's record of every task; the
 * requests in flight, from the burst's own records; how late /stats answered (the event loop's lag) and how long a
 * small file read took (it waits behind hashes on libuv's threads), sampled.
 */
export const GAUGES = ['busy', 'queued', 'dbBusy', 'dbWaiting', 'inFlight', 'statsMs', 'fileReadMs'] as const;
export type GaugeName = (typeof GAUGES)[number];

export interface Scenario {
  name: ScenarioName;
  /** Its name in the list: what it is, without figures (those are the settings'). */
  title: string;
  /**
   * The lesson, in a sentence or two. `{requests|request}`, `{pool|thread}`, `{threads|thread}`, `{workers|process}`
   * are a setting with its noun, `{pool}` one alone, `{delay}` D, `{waves}` the model's count: lessonOf fills them.
   */
  lesson: string;
  /** The route fired at. */
  endpoint: string;
  /** The settings this scenario reads, beside the scenario itself. */
  uses: SettingName[];
  defaults: Omit<Settings, 'scenario'>;
  /** The script that measures the same thing, for the reader who wants the full run. */
  script: string;
  /**
   * What each request does on the server: awaits a timer, blocks a thread for D (Atomics.wait), does CPU work of
   * about D (calibrated, then timed on the server: w), hashes on libuv's threads (calibrated the same way), or
   * sleeps D in PostgreSQL. It decides the server the scenario needs and its model.
   */
  work: 'timer' | 'blocking' | 'cpu' | 'hash' | 'query';
  /**
   * The pool that sets the waves, as results' `poolSize` means it: the setting that sizes it (`pool`: the server's
   * threads, or the database's connections where the work is a query; `threads`: libuv's), 1 where the work runs on
   * the event loop itself, null where nothing limits it (an awaited timer).
   */
  wavePool: 'pool' | 'threads' | 1 | null;
  /** The gauges the page draws for it (GAUGES' order). */
  gauges: GaugeName[];
  /** A bar's colour once answered: by its status alone, or also by the process that answered (several of them). */
  colourBy: 'status' | 'process';
}

const common = { requests: 100, delayMs: 3000, pool: 40, threads: 4, workers: 2, runtime: 'node' as const };

export const SCENARIO_TABLE: Record<ScenarioName, Scenario> = {
  async: {
    name: 'async',
    title: 'async: an awaited timer',
    lesson:
      'The blog’s async endpoint: every request awaits a timer of {delay} on the one event loop, and nothing limits them: {requests|request} in {waves}.',
    endpoint: '/asyncio-test',
    uses: ['requests', 'delayMs'],
    defaults: common,
    script: 'async-vs-sync.ts',
    work: 'timer',
    wavePool: null,
    gauges: ['inFlight', 'statsMs'],
    colourBy: 'status',
  },
  sync: {
    name: 'sync',
    title: 'sync: a blocking call in a pool of threads',
    lesson:
      'The blog’s sync endpoint: each request blocks a pool thread for {delay}; a pool of {pool|thread} serves {requests|request} in {waves}.',
    endpoint: '/sync-test',
    uses: ['requests', 'delayMs', 'pool'],
    defaults: common,
    script: 'async-vs-sync.ts',
    work: 'blocking',
    wavePool: 'pool',
    gauges: ['busy', 'queued', 'inFlight', 'statsMs'],
    colourBy: 'status',
  },
  'blocking-loop': {
    name: 'blocking-loop',
    title: 'the same blocking call on the event loop',
    lesson:
      'No pool: the blocking call of {delay} runs on the event loop itself, one request at a time ({requests|request}: {waves}), and nothing else runs meanwhile (see the gap in the gauges).',
    endpoint: '/blocking-loop-test',
    uses: ['requests', 'delayMs'],
    defaults: { ...common, requests: 5, delayMs: 1000 },
    script: 'blocking-event-loop.ts',
    work: 'blocking',
    wavePool: 1,
    gauges: ['inFlight', 'statsMs'],
    colourBy: 'status',
  },
  'cpu-loop': {
    name: 'cpu-loop',
    title: 'CPU work on the event loop',
    lesson: 'CPU work of about {delay} on the one event loop: {requests|request}, one at a time, N · w.',
    endpoint: '/cpu-loop-test',
    uses: ['requests', 'delayMs'],
    defaults: { ...common, requests: 8, delayMs: 200 },
    script: 'cpu-bound.ts',
    work: 'cpu',
    wavePool: 1,
    gauges: ['inFlight', 'statsMs'],
    colourBy: 'status',
  },
  'cpu-pool': {
    name: 'cpu-pool',
    title: 'CPU work in the pool',
    lesson:
      'The same CPU work in a pool of {pool|thread}: side by side, as fast as the cores allow (threads beyond the cores share them).',
    endpoint: '/cpu-pool-test',
    uses: ['requests', 'delayMs', 'pool'],
    defaults: { ...common, requests: 8, delayMs: 200 },
    script: 'cpu-bound.ts',
    work: 'cpu',
    wavePool: 'pool',
    gauges: ['busy', 'queued', 'inFlight', 'statsMs'],
    colourBy: 'status',
  },
  db: {
    name: 'db',
    title: 'a PostgreSQL query through node-postgres’ pool',
    lesson:
      'Each request sleeps {delay} in PostgreSQL (SELECT pg_sleep) through node-postgres’ pool of {pool|connection}: waves of {pool}, so {requests|request} take {waves}.',
    endpoint: '/db-test',
    uses: ['requests', 'delayMs', 'pool'],
    defaults: { ...common, pool: 10 },
    script: 'database-pool.ts',
    work: 'query',
    wavePool: 'pool',
    gauges: ['dbBusy', 'dbWaiting', 'inFlight', 'statsMs'],
    colourBy: 'status',
  },
  hash: {
    name: 'hash',
    title: 'async hashes on libuv’s threadpool',
    lesson:
      'Async crypto.pbkdf2 runs on libuv’s {threads|thread}, which share the cores; a file read, also on those threads, waits behind them (its wait is the gauge).',
    endpoint: '/hash-test',
    uses: ['requests', 'delayMs', 'threads'],
    defaults: { ...common, requests: 12, delayMs: 200 },
    script: 'libuv-pool.ts',
    work: 'hash',
    wavePool: 'threads',
    gauges: ['inFlight', 'statsMs', 'fileReadMs'],
    colourBy: 'status',
  },
  workers: {
    name: 'workers',
    title: 'K processes, a pool in each',
    lesson:
      'node:cluster: {workers|process}, each with its own event loop and pool of {pool|thread}; the connections are dealt out among them, so the split is not always even.',
    endpoint: '/sync-test',
    uses: ['requests', 'delayMs', 'pool', 'workers'],
    defaults: common,
    script: 'workers.ts',
    work: 'blocking',
    wavePool: 'pool',
    gauges: ['busy', 'queued', 'inFlight', 'statsMs'],
    colourBy: 'process',
  },
};

/** The size of the pool that sets the waves (results' `poolSize`), or null where nothing limits them. */
export function wavePoolSizeOf(s: Settings): number | null {
  const pool = SCENARIO_TABLE[s.scenario].wavePool;
  return pool === null || pool === 1 ? pool : s[pool];
}

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
    const most = name === 'pool' && table.work === 'query' ? DB_POOL_MAX : max;
    if (!Number.isInteger(value) || value < min || value > most) {
      refuse(name, `${name} (${label}) must be a whole number from ${min} to ${most}`, raw);
    } else settings[name] = value;
  }
  const runtime = given.runtime;
  if (runtime !== undefined && runtime !== null && runtime !== '') {
    const why = whyNotOn(runtime, table);
    if (why) refuse('runtime', why, runtime);
    else settings.runtime = runtime as Runtime;
  }
  return errors.length > 0 ? { errors } : { settings };
}

/** Why this scenario cannot run on `runtime`, or null where it can. */
function whyNotOn(runtime: unknown, table: Scenario): string | null {
  if (typeof runtime !== 'string' || !(RUNTIMES as readonly string[]).includes(runtime))
    return `runtime must be one of ${RUNTIMES.join(', ')}`;
  const found = findRuntime(runtime as Runtime);
  if ('missing' in found) return `runtime ${runtime} cannot run here: ${found.missing}`;
  if (runtime === 'deno' && table.uses.includes('workers'))
    return 'Deno cannot run server.ts with --workers (see docs/runtimes.md)';
  // Its model is libuv's threadpool of `threads`; Bun and Deno run these hashes on pools of their own.
  if (runtime !== 'node' && table.work === 'hash')
    return `the ${table.name} scenario models libuv's threadpool, which is Node's; Bun's and Deno's pools: scripts/runtimes.ts`;
  return null;
}

/** What server.ts needs to be started with for these settings (a different one means a restart). */
export interface ServerConfig {
  /** server.ts's settings (its iterations and database added once known). */
  settings: ServerOptions;
  env: Record<string, string>;
  runtime: Runtime;
  /** Which work to calibrate to D ms in this process before starting: its iterations go in the settings. */
  work: 'cpu' | 'hash' | null;
  database: boolean;
}

export function serverConfigOf(s: Settings): ServerConfig {
  const { work, uses, wavePool } = SCENARIO_TABLE[s.scenario];
  const settings: ServerOptions = { poolSize: wavePool === 'pool' && work !== 'query' ? s.pool : 1, delayMs: s.delayMs };
  if (work === 'query') settings.dbPoolSize = s.pool;
  if (uses.includes('workers')) settings.workers = s.workers;
  return {
    settings,
    // libuv reads its pool's size once, when the pool starts: before server.ts runs, under tsx.
    env: wavePool === 'threads' ? { UV_THREADPOOL_SIZE: String(s.threads) } : {},
    runtime: s.runtime,
    work: work === 'cpu' || work === 'hash' ? work : null,
    database: work === 'query',
  };
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
  const { work, uses, wavePool } = SCENARIO_TABLE[s.scenario];
  const n = s.requests;
  const d = s.delayMs;
  const p = wavePoolSizeOf(s);
  const steps = (count: number, each: number) => Array.from({ length: count }, (_, i) => round((i + 1) * each));
  if (p === null) {
    return { predictedMs: d, boundariesMs: [d], formula: `${d} ms: one wave, nothing limits an awaited timer`, nominal: false };
  }
  if (work === 'cpu' || work === 'hash') {
    const w = calibration?.workMs ?? d;
    const coreMs = calibration?.coreMs ?? Array.from({ length: cores }, () => d);
    const cpu = { requests: n, poolSize: p, workMs: w, coreMs };
    const wave = predictCpuWaveMs(cpu);
    const inputs = `w = ${round(w)} ms${calibration ? ' measured on the server' : ' (nominal: D, not yet timed)'}, ${coreMs.length} cores`;
    return {
      predictedMs: round(predictCpuTotalMs(cpu)),
      boundariesMs: steps(Math.ceil(n / p), wave),
      formula:
        p === 1
          ? `${n} · w, ${inputs}`
          : `ceil(${n} / ${p}) waves of ${round(wave)} ms (${p} threads on ${coreMs.length} cores), ${inputs}`,
      nominal: calibration === null,
    };
  }
  if (uses.includes('workers')) {
    return {
      predictedMs: predictTotalMs({ requests: n, poolSize: s.workers * p, delayMs: d }),
      boundariesMs: steps(Math.ceil(Math.ceil(n / s.workers) / p), d),
      formula: `ceil(${n} / (${s.workers} · ${p})) · ${d} ms, if the connections are dealt out evenly`,
      nominal: false,
    };
  }
  const note = wavePool === 1 ? ': the event loop is a pool of one' : work === 'query' ? ' (the database pool)' : '';
  return {
    predictedMs: predictTotalMs({ requests: n, poolSize: p, delayMs: d }),
    boundariesMs: steps(predictWaves({ requests: n, poolSize: p, delayMs: d }), d),
    formula: `ceil(${n} / ${p}) · ${d} ms${note}`,
    nominal: false,
  };
}

/** The scenario's lesson in the words of these settings and their model (Scenario.lesson says what is filled in). */
export function lessonOf(s: Settings, model: Model): string {
  return SCENARIO_TABLE[s.scenario].lesson.replace(/\{(\w+)(?:\|(\w+))?\}/g, (token, name: string, noun?: string) => {
    if (name === 'delay') return durationWords(s.delayMs);
    if (name === 'waves') return countOf(model.boundariesMs.length, 'wave', true);
    if (!(name in LIMITS)) return token;
    const value = s[name as SettingName];
    return noun ? countOf(value, noun) : String(value);
  });
}

/** `3 threads`, `1 thread`, `2 processes`; in words up to ten where asked (`three waves`). */
function countOf(count: number, noun: string, inWords = false): string {
  const number = inWords && count <= 10 ? NUMBER_WORDS[count]! : String(count);
  const plural = noun.endsWith('s') ? `${noun}es` : `${noun}s`;
  return `${number} ${count === 1 ? noun : plural}`;
}
const NUMBER_WORDS = ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];

/** D as a reader says it: `300 ms`, `3 s`, `1.5 s`. */
function durationWords(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(3))} s`;
}

const round = (ms: number) => Math.round(ms * 10) / 10;
