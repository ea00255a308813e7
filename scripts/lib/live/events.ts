/**
 * What the live page is streamed, and what a live burst adds to its measurement (scripts/live.ts sends them;
 * the page's modules in scripts/live/ read them by JSDoc import, so both sides share one definition).
 */
import type { RequestRecord } from '../client/burst-types.ts';
import type { Measurement } from '../results/types.ts';
import type { Link } from '../../../server/task-log.ts';
import type { Model, ScenarioName, Settings } from './scenarios.ts';

/** A gauge sample: what the server said of itself while the burst ran, ms since the burst's first request. */
export interface Sample {
  atMs: number;
  /** How long /stats took to answer: a blocked event loop answers late, or not at all until it is free. */
  statsMs: number;
  /** Pool threads busy, and tasks waiting for one. */
  busy: number;
  queued: number;
  /** Requests being served (for hash: hashes outstanding). */
  inFlight: number;
  /** node-postgres' pool: connections in use, and queries waiting for one. */
  dbBusy?: number;
  dbWaiting?: number;
  /** hash: how long a small file read (also on libuv's threads) took, fired with this sample. */
  fileReadMs?: number;
}

/**
 * One step of the server's pool gauges, exact: a change the server recorded for one of its tasks (a thread of its
 * pool, a connection of its database pool: queued, started, ended; GET /stats/tasks), put on the burst's clock, with
 * that link's counts from then on (every process of the server added up).
 */
export interface PoolStep {
  /** ms since the burst's first request was written, on the firing process's clock. */
  atMs: number;
  /** The worker-thread pool, or the database pool's connections. */
  link: Link;
  /** Tasks holding a thread (a connection), and tasks waiting for one, from atMs on. */
  busy: number;
  queued: number;
}

/** What a live burst adds to its measurement: the settings, the model's boundaries, and the gauges' samples. */
export interface LiveFields {
  scenario: ScenarioName;
  settings: Settings;
  boundariesMs: number[];
  formula: string;
  samples: Sample[];
  /** The pool gauges, exact, from the burst's first request until the server was idle again (where the scenario has a pool). */
  poolSteps?: PoolStep[];
  /** The model's inputs were nominal (the server was not timed). */
  nominalModel?: boolean;
}
export type LiveMeasurement = Measurement<LiveFields>;

/** Everything the page is streamed (server-sent events, one JSON object each); a page that connects late gets the current burst's so far. */
export type LiveEvent =
  /** `burst`: sent first to a page that connects, the id of the burst whose events follow (null: none yet). */
  | { type: 'state'; state: 'idle' | 'starting' | 'firing' | 'done' | 'failed'; detail?: string; burst?: number | null }
  | { type: 'status'; text: string }
  /** `lesson`: the scenario's, in the words of these settings. */
  | { type: 'burst'; id: number; settings: Settings; endpoint: string; label: string; model: Model; lesson: string }
  /** `at`: the script's wall clock (Date.now()) when the first request was written, so a page that joins late knows how long ago. */
  | { type: 'started'; id: number; startsMs: number[]; at: number }
  | { type: 'end'; id: number; request: RequestRecord }
  | { type: 'sample'; id: number; sample: Sample }
  /**
   * The pool gauges' steps from index `from` on (those before stay; a change the server recorded late, with an
   * earlier time, redraws what follows it); `untilMs`: how far the server's record has been read (its clock when it
   * answered, on the burst's).
   */
  | { type: 'pool'; id: number; from: number; steps: PoolStep[]; untilMs: number }
  | { type: 'done'; id: number; result: LiveMeasurement }
  | { type: 'failed'; id: number; detail: string };
