/**
 * The results contract: what every experiment writes, one type reused by every script, the report, the pictures and
 * the tests. The contract as JSON is in scripts/README.md ("What a script writes"). Writing it to disk is
 * ./results-file.ts.
 *
 * What an experiment adds beyond the common fields is typed too: the fields several experiments share (below, in
 * SharedMeasurementFields and SharedFileFields), and an experiment's own through the type parameters of Measurement
 * and ResultsFile, which defineExperiment(...).withResults<…>() declares. Nothing is read by a name the types do not
 * know.
 *
 * About 270 lines, most of them documented types: the contract is read by scripts, the report and the tests alike,
 * and one file is the one place to look up a field.
 */
import { errorKindOf, type BurstClient, type BurstResult, type ErrorKind, type RequestRecord } from '../client/burst-types.ts';
import type { ServerStats } from '../../../server/stats-window.ts';
import type { Runtime } from '../../../server/runtime.ts';
import { summarize, type Summary } from '../model/percentiles.ts';
import { round3 } from '../../../server/numbers.ts';
import type { Target } from '../model/targets.ts';

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

/** Requests that did not succeed, by kind. */
export type ErrorCounts = { [kind in ErrorKind]?: number };

/** One burst, as every experiment records it. */
export interface MeasurementCore {
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
  errorCounts: ErrorCounts;
  /** Error answers by what they said: `503 Service Unavailable: …` → how many. */
  errorDetails?: Record<string, number>;
  latencyMs: Omit<Summary, 'mean'> & { mean?: number };
  /** Opening the connections before the burst, ms; null where the total includes it (the curl client, or timed from each connect). */
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
  /** Answers (2xx) per server process, by the X-Worker header's PID, where the server sends one. */
  perWorker?: Record<string, number>;
  /** The server's own view of the burst: event-loop delay, pool counters, arrivals and answers, RSS. */
  server?: ServerStats;
  requests: RequestRecord[];
}

/**
 * Fields some experiments add to a measurement, each with one meaning wherever it appears: the pictures, the report
 * and the tests read them by these names.
 */
export interface SharedMeasurementFields {
  /** A probe fired beside a burst (its label is `<burst>-probe-<name>`): which burst, and which probe. */
  probe?: { burst: string; name: string };
  /** false: no timeline of its own (find-pool fires many small bursts and draws the one that revealed P). */
  timeline?: false;
  /** How the answers came, wave by wave, earliest first: each wave's size (./waves.ts). Its timeline colours them. */
  waves?: number[];
  /** CPU work: how long one wave lasts where it is not D (threads beyond the cores share them). */
  waveMs?: number;
  /** CPU work: the cores as the server got them, each one's time for a request while all were busy, ms. */
  coreMs?: number[];
  /** The runtime that ran the server.ts that answered (node, bun, deno), as its /stats said; absent for other servers. */
  runtime?: Runtime;
  /** That runtime's version (Bun's and Deno's own, not the Node version they emulate). */
  runtimeVersion?: string;
  /** libuv's threadpool size of the server that answered (a sweep of UV_THREADPOOL_SIZE). */
  libuvThreadpoolSize?: number;
  /** Fired at K processes (--workers K, uvicorn --workers K). */
  workers?: number;
  /** K processes: the model from the split that happened, the busiest process's ceil(n_k / P) · D. */
  predictedFromSplitMs?: number;
  /** K processes, each burst of the repeats: how its requests were split, its total, and that split's model. */
  splits?: Split[];
  /** A database's limit: the connections it allows the server's role. */
  connectionLimit?: number;
  /** A database's limit: how long it took to refuse one connection beyond it, ms, timed in the same run. */
  refusalMs?: number | null;
  /**
   * Where a limit beyond the pool refuses part of the burst (a full queue, a database's max_connections): the 503s
   * per burst the model predicts, or null where it cannot say how many (why: `refusalsUnpredictable`). Refusals the
   * model predicts are results, not failures; any other error still fails the run.
   */
  expectedRefused?: number | null;
  refusalsUnpredictable?: string;
}

export interface Split {
  /** Answers per server process (its PID). */
  perWorker: Record<string, number>;
  totalMs: number;
  predictedFromSplitMs: number;
}

/** What an experiment adds of its own when it adds nothing: no field at all. */
export type NoFields = Record<never, never>;

/** A measurement: the common fields, the shared ones, and X, the fields an experiment of its own adds. */
export type Measurement<X extends object = NoFields> = MeasurementCore & SharedMeasurementFields & X;

export interface Repeats {
  totalsMs: number[];
  median: number;
  min: number;
  max: number;
  /** The curl client only: each burst's whole-second total. */
  wholeSeconds?: number[];
  /** Each burst's own outcome, in the order they ran (with the split over server processes, where they say). */
  runs?: {
    totalMs: number;
    ok: number;
    errors: number;
    errorCounts: ErrorCounts;
    perWorker?: Record<string, number>;
  }[];
}

/** A flag's value as the file records what a script was run with. */
export type ParamValue = string | number | boolean | null | readonly (string | number)[] | { readonly [key: string]: ParamValue };

/** The fields of every results file. */
export interface ResultsFileCore<X extends object = NoFields> {
  experiment: string;
  createdAt: string;
  environment: Environment;
  /** What the script was run with: its flags, and what it chose from them. */
  params: Record<string, ParamValue>;
  measurements: Measurement<X>[];
  /** The script header's "What it shows" paragraph, for the report. */
  whatItShows?: string;
  /** The run was cut short: only the measurements it holds finished (the last one may be marked interrupted). */
  interrupted?: boolean;
  /** Why: SIGINT, SIGTERM, or the server that died. */
  interruptedBy?: string;
  /** What did not hold: unexpected errors, a claim the script checks. The script exited non-zero. */
  failures?: string[];
  /** Why nothing was measured (e.g. no Python with FastAPI): not a failure. */
  skipped?: string;
  /** The pictures drawn of it, by file name beside the JSON. */
  charts?: ChartFiles;
}

/** Fields several experiments add to their file; the pictures read them. */
export interface SharedFileFields {
  /** A sweep of one setting: a chart of each total beside the model's. */
  sweep?: Sweep;
  /** Pictures of several measurements on one clock (a burst and its probes). */
  overlays?: Overlay[];
  /** Totals as N grows, beside the model's steps: one picture each (find-pool, for each target). */
  staircases?: Staircase[];
  /**
   * What the experiment holds itself to, each judged pass, miss or inconclusive on this run's evidence
   * (scripts/lib/model/targets.ts). run-all and the report list the ones that did not pass; neither fails the run.
   */
  targets?: Target[];
}

/** The total of each burst as N grew, and the model's total at every N up to the largest, for its steps. */
export interface Staircase {
  name: string;
  title: string;
  points: { requests: number; totalMs: number }[];
  model: { requests: number; predictedMs: number }[];
}

/** A results file: the common fields, the shared ones, and F, the fields an experiment of its own adds. */
export type ResultsFile<F extends object = NoFields, X extends object = NoFields> = ResultsFileCore<X> & SharedFileFields & F;

export interface SweepPoint {
  /** What was varied, e.g. "P = 10" or "N = 41". */
  label: string;
  measuredMs: number;
  predictedMs: number | null;
}

export interface Sweep {
  title: string;
  xLabel: string;
  points: SweepPoint[];
}

/** A picture of several measurements of one results file, by label, the first one's model drawn. */
export interface Overlay {
  name: string;
  title: string;
  labels: string[];
}

export interface ChartFiles {
  /** measurement label → its timeline's file name (beside the JSON). */
  timelines: Record<string, string>;
  sweep?: string;
  /** overlay name → its file: several measurements on one clock (a burst and its probes). */
  overlays?: Record<string, string>;
  /** staircase name → its file. */
  staircases?: Record<string, string>;
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

/** The runtime fields of a measurement, from the /stats of the server.ts that answered; none for any other server. */
export function runtimeFields(
  stats: Pick<ServerStats, 'runtime' | 'runtimeVersion'> | undefined,
): Pick<SharedMeasurementFields, 'runtime' | 'runtimeVersion'> {
  // An older server.ts (fired at with --url) says nothing of its runtime.
  return stats?.runtime ? { runtime: stats.runtime, runtimeVersion: stats.runtimeVersion } : {};
}

/** A burst, as the contract records it, with any more fields it has (shared, or the experiment's own). */
export function toMeasurement<X extends object = NoFields>(
  context: MeasurementContext,
  burst: BurstResult,
  extra?: SharedMeasurementFields & NoInfer<X>,
): Measurement<X> {
  const statusCounts: Record<string, number> = {};
  const errorCounts: ErrorCounts = {};
  const perWorker: Record<string, number> = {};
  const errorDetails: Record<string, number> = {};
  let ok = 0;
  for (const r of burst.requests) {
    if (r.status !== null) statusCounts[r.status] = (statusCounts[r.status] ?? 0) + 1;
    const kind = errorKindOf(r);
    if (kind === null) {
      ok++;
      if (r.worker !== undefined) perWorker[r.worker] = (perWorker[r.worker] ?? 0) + 1;
    } else {
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
    ...runtimeFields(server),
    ...(extra as X),
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
