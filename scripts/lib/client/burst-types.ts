/**
 * What a burst client is asked for and what it gives back: one record per request. A module of its own so the
 * clients (burst.ts, curl-burst.ts) and everything that reads their records share one definition.
 */

/** raw: the suite's raw-socket client. curl: the blog's test.sh, one background curl process per request. */
export const BURST_CLIENTS = ['raw', 'curl'] as const;
export type BurstClient = (typeof BURST_CLIENTS)[number];

export interface RequestRecord {
  id: number;
  /** Offsets from the burst start (first request written), in ms. */
  startMs: number;
  endMs: number;
  /** HTTP status, or null when no complete response arrived. */
  status: number | null;
  /** Why there is no response: 'timeout', 'closed' (the server hung up), 'interrupted', or the socket error code. */
  error?: string;
  /** The response's X-Worker header: the PID of the server process that answered (server.ts --workers K). */
  worker?: string;
  /** For an error status: what the body said (FastAPI's `detail`, or the start of the body). */
  detail?: string;
  /** Timed from the connect (find-pool): how long its connection took to open, ms; a full accept queue shows here. */
  connectMs?: number;
}

export interface BurstResult {
  /** performance.now() when the first request was written: lines up bursts fired side by side. */
  startedAt: number;
  /** First request written → last response complete (or last error), in ms. */
  totalMs: number;
  /** Opening the N connections, before the clock of totalMs starts; null where the total includes it (curl). */
  connectMs: number | null;
  /** The blog's own figure for the curl client: `date +%s` after minus before, in whole seconds. */
  wholeSeconds?: number;
  requests: RequestRecord[];
}

export interface BurstOptions {
  /** e.g. http://127.0.0.1:8000 */
  baseUrl: string;
  /** The path of the i-th request (1-based), e.g. (i) => `/sync-test/${i}` */
  path: (id: number) => string;
  requests: number;
  /** A request still unanswered this long after the burst started is ended and counted as 'timeout'. */
  timeoutMs: number;
  /** Connections opened at once while connecting, so the server's accept queue never overflows. */
  connectBatch?: number;
  /** Called after each request ends, with its record where the client has it then (the raw one: the live page streams it). */
  onRequestDone?: (done: number, total: number, record?: RequestRecord) => void;
  /** Called once every request has been written (or, timed from the connect, every connection begun): their starts. */
  onStarted?: (records: readonly RequestRecord[], startedAt: number) => void;
  /** Default raw. */
  client?: BurstClient;
  /** Ends the burst at once: every request still open is recorded as 'interrupted' (Ctrl-C, a server that died). */
  signal?: AbortSignal;
  /** What each request is beyond a GET with no body (the raw client only). */
  request?: RequestShape;
  /** An https:// target: accept a certificate that no authority signed (a self-signed one). */
  insecure?: boolean;
  /**
   * When a request's clock starts (the raw client only). 'write', the default: every connection is opened first,
   * outside the totals (connectMs beside them). 'connect': each request's connection is opened inside the clock and
   * the request written the moment it is up, so a server slow to accept its connections (a full accept queue)
   * shows in the request's own time, and each record's connectMs says how much of it that was.
   */
  timedFrom?: 'write' | 'connect';
  /** The response header that names the process that answered (default X-Worker). */
  workerHeader?: string;
}

/** A request beyond a bare GET: its method, extra header lines ('Name: value'), and a body. */
export interface RequestShape {
  method?: string;
  headers?: string[];
  body?: string;
}
