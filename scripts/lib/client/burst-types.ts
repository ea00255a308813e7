/**
 * What a burst client is asked for and what it gives back: one record per request. A module of its own so the
 * clients (burst.ts, curl-burst.ts) and everything that reads their records share one definition.
 */

/** raw: the suite's raw-socket client. curl: the blog's test.sh, one background curl process per request. */
export const BURST_CLIENTS = ['raw', 'curl'] as const;
export type BurstClient = (typeof BURST_CLIENTS)[number];

/**
 * Why a request got no answer: the burst's deadline passed ('timeout'), the server hung up first ('closed'), the burst
 * was stopped ('interrupted'), the socket's own error code (ECONNRESET, ECONNREFUSED, EPIPE, …), or, for the curl
 * client, curl's exit code where it names none of these.
 */
export type NoAnswer =
  | 'timeout'
  | 'closed'
  | 'interrupted'
  | 'socket error'
  | 'connect error'
  | `E${string}`
  | `curl exit ${string}`;

/** What a request that did not succeed counts as in a measurement's errorCounts: its status, or why there was none. */
export type ErrorKind = `HTTP ${number}` | NoAnswer;

/** Answered 2xx: the one meaning of "ok" everywhere in the suite. */
export function isOk(r: { status: number | null }): boolean {
  return r.status !== null && r.status >= 200 && r.status < 300;
}

/** The kind of a request that did not succeed, or null for one that did. */
export function errorKindOf(r: { status: number | null; error?: NoAnswer }): ErrorKind | null {
  if (isOk(r)) return null;
  return r.status !== null ? `HTTP ${r.status}` : (r.error ?? 'closed');
}

/**
 * Turned away rather than served: "come back later" (503, 429), or a connection refused, reset or closed before any
 * answer, which is how a server with a full queue or backlog refuses at the socket.
 */
export function isRefusal(kind: ErrorKind): boolean {
  return REFUSALS.has(kind);
}
const REFUSALS = new Set<ErrorKind>(['HTTP 503', 'HTTP 429', 'ECONNRESET', 'closed', 'ECONNREFUSED', 'EPIPE']);

/** No HTTP answer at all (not even an error status): the first sign of a server that is gone. */
export function isNoAnswer(kind: ErrorKind): kind is NoAnswer {
  return !kind.startsWith('HTTP ');
}

export interface RequestRecord {
  id: number;
  /** Offsets from the burst start (first request written), in ms. */
  startMs: number;
  endMs: number;
  /** HTTP status, or null when no complete response arrived. */
  status: number | null;
  /** Why there is no response. */
  error?: NoAnswer;
  /** The response's X-Worker header: the PID of the server process that answered (server.ts --workers K). */
  worker?: string;
  /** For an error status: what the body said (FastAPI's `detail`, or the start of the body). */
  detail?: string;
  /** Timed from the connect (find-pool): how long its connection took to open, ms; a full accept queue shows here. */
  connectMs?: number;
  /**
   * Where the server says the request's time went, from its Server-Timing header (the raw client, where one was
   * sent): metric name → ms, e.g. { "pool-wait": 3000.2, "pool-run": 3000.5 }. Names ending in -wait are time
   * queued for a resource; the others, work (server/README.md lists server.ts's).
   */
  serverTiming?: Record<string, number>;
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
