/**
 * The database behind /db-test: node-postgres' pg.Pool, and every way it can fail turned into an answer in
 * FastAPI's shape instead of a crash. Apart from the routes because a real database brings its own pool, its
 * own limits and its own failures, and the route should only say "run this query".
 */
import pg from 'pg';
import { Failure } from './answers.ts';
import { queryForRequest } from './database-query.ts';
import type { TaskLog } from './task-log.ts';
import type { RequestScope } from './timing.ts';

export interface DatabaseStats {
  /** The pool's size: how many connections may be open at once (its P). */
  poolSize: number;
  /** Connections open now, idle among them, and queries waiting for one. */
  open: number;
  idle: number;
  waiting: number;
}

export interface Database {
  /** `SELECT pg_sleep(ms / 1000)`: resolves when PostgreSQL answered, or with what to answer instead. */
  sleep(ms: number, request: RequestScope): Promise<Failure | undefined>;
  stats(): DatabaseStats | null;
  /**
   * Opens every connection of the pool before the ready line, as the thread pool warms its threads: a burst
   * then measures the waves, not PostgreSQL starting backends. Says how many it could open, and why not more.
   * `upTo`: fewer (a --workers K worker's share of what the database allows); the pool may still grow to its size.
   */
  warm(upTo?: number | null): Promise<{ open: number; poolSize: number; failure: string | null }>;
  close(): Promise<void>;
}

const NOT_CONFIGURED = new Failure(
  503,
  'Service Unavailable: /db-test needs a database; start the server with --database-url (or DATABASE_URL)',
);

/** How the server's queries run: each recorded in `log`; --db-cancel and --db-timeout-ms. */
export interface QuerySettings {
  log: TaskLog;
  /** Cancel a query in PostgreSQL when its client hangs up (--db-cancel on, the default). */
  cancelOnHangUp: boolean;
  /** PostgreSQL's statement_timeout for each query, ms; null: none (--db-timeout-ms). */
  timeoutMs: number | null;
}

/**
 * `connectTimeoutMs` bounds opening a connection only: a query waiting in the pool's queue for a free connection
 * waits as long as it must (that wait is the experiment). node-postgres' pool-level connectionTimeoutMillis
 * would cut that wait too, so the timeout is given to each client instead.
 */
export function createDatabase(
  url: string | null,
  poolSize: number | null,
  connectTimeoutMs: number,
  queries: QuerySettings,
): Database {
  if (url === null) {
    return {
      sleep: async () => NOT_CONFIGURED,
      stats: () => null,
      warm: async () => ({ open: 0, poolSize: 0, failure: null }),
      close: async () => {},
    };
  }
  class TimedClient extends pg.Client {
    constructor(config?: pg.ClientConfig) {
      super({ ...config, connectionTimeoutMillis: connectTimeoutMs });
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    ...(poolSize === null ? {} : { max: poolSize }),
    Client: TimedClient,
    // Warm connections stay warm: an idle one is not closed after node-postgres' default 10 s.
    idleTimeoutMillis: 0,
  });
  // An idle connection the database drops (a restart, pg_terminate_backend) is reported here; unheard, node-
  // postgres would throw it and take the server down. The next query opens a new connection.
  pool.on('error', (error: Error & { code?: string }) =>
    console.error(`database: an idle connection failed: ${describe(error)}`),
  );

  return {
    async sleep(ms, request) {
      const outcome = await queryForRequest(pool, sleepQuery(ms, queries.timeoutMs), request, queries.log, {
        cancelOnHangUp: queries.cancelOnHangUp,
        cancelTimeoutMs: connectTimeoutMs,
      });
      if (outcome.kind === 'done') return undefined;
      if (outcome.kind === 'left' || outcome.cancelled) return CLIENT_GONE;
      // 57014 is both a cancel and a timeout, and only the message (in the server's language) tells them apart:
      // a query this server did not cancel, with a timeout set, ran past it.
      if (outcome.error.code === QUERY_CANCELED && queries.timeoutMs !== null) {
        return new Failure(504, `Gateway Timeout: the query ran past the server's --db-timeout-ms of ${queries.timeoutMs} ms`);
      }
      return failureOf(outcome.error, connectTimeoutMs);
    },
    stats: () => ({ poolSize: pool.options.max, open: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async warm(upTo) {
      // One at a time, each held until all are open, and no further after the first refusal. PostgreSQL gives a
      // connection it is about to refuse a slot while it checks the limit: opened all at once, the attempts
      // beyond the limit could take a slot from one within it (a CI run on a slower machine got 16 of 17).
      const held: pg.PoolClient[] = [];
      let failure: string | null = null;
      while (held.length < Math.min(pool.options.max, upTo ?? Number.POSITIVE_INFINITY)) {
        try {
          held.push(await pool.connect());
        } catch (error) {
          failure = describe(error as Error & { code?: string });
          break;
        }
      }
      for (const client of held) client.release();
      return { open: held.length, poolSize: pool.options.max, failure };
    },
    close: () => pool.end(),
  };
}

const CLIENT_GONE = new Failure(503, 'Client disconnected');
/** PostgreSQL's query_canceled: a cancel request, or statement_timeout. */
const QUERY_CANCELED = '57014';

/**
 * `SELECT pg_sleep(ms / 1000)`, with `SET LOCAL statement_timeout` before it where a timeout is set: one string of
 * the simple protocol, which PostgreSQL runs as one implicit transaction, so the setting ends with the query. That is
 * what works behind PgBouncer in transaction mode too: a session's SET would stay on a server connection other
 * clients then use, and PgBouncer 1.18 refuses statement_timeout as a start-up parameter. A string of several
 * statements cannot take parameters ($1), so the numbers are written into it, and only after they are checked.
 */
export function sleepQuery(ms: number, timeoutMs: number | null): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`a sleep of ${ms} ms is not a whole number of ms`);
  const sleep = `SELECT pg_sleep(${ms / 1000})`;
  if (timeoutMs === null) return sleep;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1)
    throw new RangeError(`a timeout of ${timeoutMs} ms is not a whole number of ms`);
  return `SET LOCAL statement_timeout = ${timeoutMs}; ${sleep}`;
}

/** PostgreSQL's codes for "not now": too many connections, shutting down, starting up. */
const UNAVAILABLE: Record<string, string> = {
  '53300': 'the database refused a connection: too many clients',
  '57P01': 'the database closed the connection (it is shutting down, or an administrator ended it)',
  '57P02': 'the database closed the connection (it crashed)',
  '57P03': 'the database is not accepting connections yet',
  // PgBouncer sends every refusal of its own as 08P01 (PostgreSQL's protocol_violation): max_client_conn reached,
  // a client that waited query_wait_timeout, PostgreSQL's own "too many clients" at its login.
  '08P01': 'the pooler in front of the database refused or dropped the connection',
};

/** What the route answers for a query that failed: 503 while the database cannot serve, 500 for anything else. */
function failureOf(error: Error & { code?: string }, connectTimeoutMs: number): Failure {
  const code = error.code ?? '';
  const why = describe(error);
  if (UNAVAILABLE[code]) return new Failure(503, `Service Unavailable: ${UNAVAILABLE[code]} (${why})`, { 'Retry-After': '1' });
  if (['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ECONNRESET', 'ETIMEDOUT'].includes(code)) {
    return new Failure(503, `Service Unavailable: the database is not reachable (${why})`, { 'Retry-After': '1' });
  }
  if (/connection timeout|timeout expired/i.test(error.message)) {
    return new Failure(503, `Service Unavailable: the database did not accept a connection within ${connectTimeoutMs} ms`, {
      'Retry-After': '1',
    });
  }
  if (/Connection terminated/i.test(error.message)) {
    return new Failure(503, `Service Unavailable: the database connection was lost mid-query (${why})`, { 'Retry-After': '1' });
  }
  console.error(`database: the query failed: ${why}`);
  return new Failure(500, 'Internal Server Error: the query failed');
}

function describe(error: Error & { code?: string }): string {
  return error.code ? `${error.code} ${error.message}` : error.message;
}
