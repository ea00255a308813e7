/**
 * One query for one request on node-postgres' pool: a connection acquired, the query run on it, the connection
 * given back; recorded as a task of the 'db' link (queued, started, ended) and said in the answer's Server-Timing
 * (db-wait, db-query). And what happens when the request's client hangs up, which node-postgres alone does not
 * handle (it has no AbortSignal, its issue #2774; `query_timeout` stops the waiting, not the query):
 *
 *  - still waiting for a connection: the request leaves the wait at once, and the connection the pool grants it
 *    later goes straight back unused (node-postgres' queue has no way to take a waiter out);
 *  - its query running: PostgreSQL is asked to cancel it (./pg-cancel.ts, a CancelRequest from a second
 *    connection), again every RETRY_CANCEL_MS until the query has ended (PgBouncer 1.18 drops a cancel for a
 *    client still waiting in its own queue); the connection goes back to the pool only once the query has ended
 *    (57014) and every cancel connection has been closed by the other side, so no late cancel can reach the next
 *    query on that connection.
 *
 * The connection is given back with `release()`, not through `pool.query()`, which would destroy it on any error:
 * a cancelled query leaves its connection as good as before.
 */
import type pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { sendCancelRequest, type CancelTarget } from './pg-cancel.ts';
import type { TaskLog } from './task-log.ts';
import type { RequestScope } from './timing.ts';

/** How the server runs its queries (--db-cancel, --db-timeout-ms). */
export interface QueryPolicy {
  /** Cancel a query in PostgreSQL (and leave the wait for a connection) when its client hangs up. */
  cancelOnHangUp: boolean;
  /** How long a cancel connection may stay open before it is given up, ms (the connect timeout serves). */
  cancelTimeoutMs: number;
}

/** How a query ended: it ran, it failed (and whether we had asked PostgreSQL to cancel it), or its client left first. */
export type QueryOutcome =
  | { kind: 'done' }
  | { kind: 'failed'; error: Error & { code?: string }; cancelled: boolean }
  | { kind: 'left' };

/**
 * Between two cancel requests for a query that has not ended. A cancel to PostgreSQL itself ends the query within
 * ≈10 ms (measured 4–14 ms), so it is sent once; behind PgBouncer, 50 ms apart left no pg_sleep running ≈270 ms
 * after 80 hang-ups, 200 ms apart ≈340 ms.
 */
const RETRY_CANCEL_MS = 50;

/** The query `text` (simple protocol: no parameters) for one request, its time recorded and said. */
export async function queryForRequest(
  pool: pg.Pool,
  text: string,
  { clientGone, timing }: RequestScope,
  log: TaskLog,
  policy: QueryPolicy,
): Promise<QueryOutcome> {
  const hangUp = policy.cancelOnHangUp ? clientGone : null;
  const record = log.queue('db');
  try {
    const client = await acquire(pool, hangUp);
    if (client === null) return { kind: 'left' };
    log.start(record);
    return await runCancellable(client, text, hangUp, policy.cancelTimeoutMs);
  } catch (error) {
    return { kind: 'failed', error: error as Error, cancelled: false };
  } finally {
    log.end(record);
    timing.addTask(record, 'db-wait', 'db-query');
  }
}

/**
 * pool.connect(), left at once when `hangUp` aborts (null: never). The connection the pool grants after that goes
 * back unused.
 */
function acquire(pool: pg.Pool, hangUp: AbortSignal | null): Promise<pg.PoolClient | null> {
  if (hangUp === null) return pool.connect();
  if (hangUp.aborted) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const leave = () => resolve(null);
    hangUp.addEventListener('abort', leave, { once: true });
    pool.connect().then(
      (client) => {
        hangUp.removeEventListener('abort', leave);
        if (hangUp.aborted) client.release();
        else resolve(client);
      },
      (error) => {
        hangUp.removeEventListener('abort', leave);
        reject(error);
      },
    );
  });
}

/** Runs `text` on `client`, cancelled in PostgreSQL if `hangUp` aborts; gives the connection back once it is safe. */
async function runCancellable(
  client: pg.PoolClient,
  text: string,
  hangUp: AbortSignal | null,
  cancelTimeoutMs: number,
): Promise<QueryOutcome> {
  let ended = false;
  const query = client.query(text);
  const markEnded = () => {
    ended = true;
  };
  const queryEnded = query.then(markEnded, markEnded);
  let cancelling: Promise<void> | null = null;
  const target = cancelTargetOf(client);
  const cancelUntilEnded = async () => {
    while (!ended) {
      // A cancel that cannot be delivered (the database gone) changes nothing: the query will end by itself.
      await sendCancelRequest(target, cancelTimeoutMs).catch(() => {});
      await Promise.race([queryEnded, sleep(RETRY_CANCEL_MS)]);
    }
  };
  const onHangUp = () => {
    cancelling = cancelUntilEnded();
  };
  if (hangUp?.aborted) onHangUp();
  else hangUp?.addEventListener('abort', onHangUp, { once: true });
  let error: (Error & { code?: string }) | undefined;
  try {
    await query;
  } catch (failure) {
    error = failure as Error & { code?: string };
  } finally {
    hangUp?.removeEventListener('abort', onHangUp);
    // Every cancel delivered (or dropped) before the connection serves anyone else.
    if (cancelling) await cancelling;
    // An error PostgreSQL sent (a cancel, a timeout) leaves the connection usable; node-postgres' pool drops one
    // that is not (closed by the server, a broken socket) however it is given back.
    client.release();
  }
  if (error === undefined) return { kind: 'done' };
  return { kind: 'failed', error, cancelled: cancelling !== null };
}

/** Where to send a CancelRequest for the backend behind `client` (through PgBouncer: PgBouncer's own keys). */
function cancelTargetOf(client: pg.PoolClient): CancelTarget {
  const { host, port, processID, secretKey } = client as pg.PoolClient & { processID: number; secretKey: number };
  return { host, port, processID, secretKey };
}
