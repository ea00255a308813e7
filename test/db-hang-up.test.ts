/**
 * A client that hangs up on /db-test stops its query: PostgreSQL cancels it (a CancelRequest), the connection
 * goes back to the pool, and a request still waiting for a connection gives it back unused. With --db-cancel off
 * the query runs on, as node-postgres alone leaves it. And --db-timeout-ms: past it a 504, the connection reused.
 * Watched from PostgreSQL's side: pg_stat_activity's client backends sleeping in pg_sleep. Through PgBouncer too,
 * where it is installed: the cancels reach the queries it runs, and those of clients still waiting in its own queue.
 */
import { test, before, after } from './harness.ts';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startServer, type RunningServer, type ServerOptions } from '../scripts/lib/processes/start-server.ts';
import { postgresForTests } from './run-script.ts';
import type { Postgres } from '../scripts/lib/processes/postgres.ts';
import { fireBurst } from '../scripts/lib/client/burst.ts';
import { waitUntil } from '../scripts/lib/core/wait-until.ts';
import { waveSizes } from '../scripts/lib/model/waves.ts';
import { predictTotalMs } from '../scripts/lib/model/model.ts';
import { findPgBouncer, startPgBouncer } from '../scripts/lib/processes/pgbouncer.ts';
import { isRunning } from '../scripts/lib/processes/process-tree.ts';

let postgres: Postgres;
/** The test's own connection to PostgreSQL, to watch the server's backends: one per server (see serverWith). */
let watcher: pg.Client | null = null;
before(async () => {
  postgres = await postgresForTests();
});
after(async () => {
  await watcher?.end();
  await postgres?.stop();
});

/** Queries sleeping in pg_sleep right now, as PostgreSQL sees them. */
async function sleeping(): Promise<number> {
  const { rows } = await watcher!.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE backend_type = 'client backend' AND state = 'active' AND wait_event = 'PgSleep'`,
  );
  return rows[0].n as number;
}

/** The server's own connections to PostgreSQL (every client backend but the watcher's), by backend PID. */
async function serverBackends(): Promise<number[]> {
  const { rows } = await watcher!.query(
    `SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() ORDER BY pid`,
  );
  return rows.map((r) => r.pid as number);
}

/**
 * Once the last server's backends are gone: a clean count. The watcher is closed first: it is a backend too, and
 * the wait would wait for it (10 s, in vain). `staying`: backends that stay on purpose (PgBouncer's server connections).
 */
async function lastServerGone(staying: number[] = []): Promise<void> {
  await watcher?.end();
  watcher = null;
  await postgres.otherConnectionsGone(staying);
}

/** A server on this file's PostgreSQL, on a clean count, and a new watcher beside it. */
async function serverWith(
  t: { after: (fn: () => unknown) => void },
  settings: ServerOptions,
  staying: number[] = [],
): Promise<RunningServer> {
  await lastServerGone(staying);
  const server = await startServer({ poolSize: 1, databaseUrl: postgres.url, ...settings });
  t.after(() => server.stop());
  watcher = new pg.Client({ connectionString: postgres.url });
  await watcher.connect();
  return server;
}

test('a client that hangs up: its query is cancelled in PostgreSQL at once; with --db-cancel off it sleeps on', async (t) => {
  const D = 2000;
  const HANG_UP_MS = 300;
  const gone: Record<string, number | null> = {};
  for (const dbCancel of [true, false]) {
    const server = await serverWith(t, { delayMs: D, dbPoolSize: 2, dbCancel });
    const burst = await fireBurst({ baseUrl: server.url, path: (i) => `/db-test/${i}`, requests: 2, timeoutMs: HANG_UP_MS });
    const hungUp = performance.now();
    assert.deepEqual(
      burst.requests.map((r) => r.error),
      ['timeout', 'timeout'],
    );
    // A quarter of D after the hang-up: cancelled queries are long gone, uncancelled ones have most of D to sleep.
    const settled = await waitUntil(
      async () => (await sleeping()) === 0 && performance.now(),
      'no pg_sleep running',
      D / 4,
      10,
    ).catch(() => null);
    gone[String(dbCancel)] = settled === null ? null : Math.round(settled - hungUp);
    if (dbCancel) {
      assert.notEqual(settled, null, `cancelled: no pg_sleep left within ${D / 4} ms of the hang-up`);
      const db = (await server.stats()).database!;
      assert.deepEqual([db.open, db.idle, db.waiting], [2, 2, 0], 'both connections back in the pool, open');
    } else {
      assert.equal(settled, null, '--db-cancel off: the queries sleep on after their clients left');
      assert.equal(await sleeping(), 2);
    }
    await server.stop();
  }
  t.diagnostic(`no pg_sleep running ${gone.true} ms after the hang-up; with --db-cancel off still 2 after ${D / 4} ms`);
});

test('100 requests abandoned at P = 10: none left running, and the next burst is its model, not the leftovers’', async (t) => {
  const D = 1000;
  const P = 10;
  const server = await serverWith(t, { delayMs: D, dbPoolSize: P });
  const abandoned = await fireBurst({ baseUrl: server.url, path: (i) => `/db-test/${i}`, requests: 100, timeoutMs: 300 });
  const hungUp = performance.now();
  assert.ok(abandoned.requests.every((r) => r.error === 'timeout'));
  // 10 running were cancelled; 90 waiting gave their connection back unused, so none of theirs ever started.
  await waitUntil(async () => (await sleeping()) === 0, 'no pg_sleep running', D / 2, 10);
  const drainMs = performance.now() - hungUp;
  await waitUntil(async () => (await server.stats()).database!.waiting === 0, 'the pool’s queue empty', D / 2, 10);
  assert.equal(await sleeping(), 0, 'and none started since');
  const backends = await serverBackends();
  assert.equal(backends.length, P, 'the same connections, none closed or opened');

  const next = await fireBurst({ baseUrl: server.url, path: (i) => `/db-test/${i}`, requests: 2 * P, timeoutMs: 10 * D });
  const model = predictTotalMs({ requests: 2 * P, poolSize: P, delayMs: D });
  assert.ok(next.requests.every((r) => r.status === 200));
  assert.deepEqual(waveSizes(next.requests, D), [P, P], `two waves: ends at ${next.requests.map((r) => r.endMs)}`);
  assert.ok(next.totalMs < model + D / 2, `the next burst took ${next.totalMs} ms; its model ${model} ms`);
  assert.deepEqual(await serverBackends(), backends, 'on the same connections');
  t.diagnostic(
    `100 hung up after 300 ms (P ${P}, D ${D} ms): no pg_sleep ${drainMs.toFixed(0)} ms after; next 20 in ${next.totalMs.toFixed(0)} ms (model ${model})`,
  );
});

test('--db-timeout-ms: past it a 504 in FastAPI’s shape, the connection reused; within it the query answers', async (t) => {
  const server = await serverWith(t, { delayMs: 2000, dbPoolSize: 1, dbTimeoutMs: 200 });
  const backends = await serverBackends();
  assert.equal(backends.length, 1);
  for (const id of [1, 2]) {
    const began = performance.now();
    const response = await fetch(`${server.url}/db-test/${id}`);
    const took = performance.now() - began;
    assert.equal(response.status, 504);
    assert.deepEqual(await response.json(), {
      detail: "Gateway Timeout: the query ran past the server's --db-timeout-ms of 200 ms",
    });
    assert.ok(took < 1000, `answered after the timeout, not the query's 2 s: ${took.toFixed(0)} ms`);
    assert.match(response.headers.get('server-timing') ?? '', /^db-wait;dur=[\d.]+, db-query;dur=[\d.]+$/);
  }
  assert.deepEqual(await serverBackends(), backends, 'the one connection served both: not closed, not replaced');
  assert.equal(await sleeping(), 0);
  await server.stop();

  const quick = await serverWith(t, { delayMs: 100, dbPoolSize: 1, dbTimeoutMs: 5000 });
  const answered = await fetch(`${quick.url}/db-test/3`);
  assert.equal(answered.status, 200, 'a query within its timeout answers as ever');
  assert.deepEqual(await answered.json(), { user: 3, status: 'done' });
});

test('through PgBouncer: a hang-up cancels the queries it runs and those still queued inside it, and PgBouncer lives on', {
  skip: findPgBouncer() === null && 'pgbouncer is not installed (apt-get install pgbouncer)',
}, async (t) => {
  const D = 2000;
  const BOUNCER_POOL = 2;
  await lastServerGone();
  const bouncer = await startPgBouncer({ databaseUrl: postgres.url, poolSize: BOUNCER_POOL, maxClientConn: 100 });
  if ('unavailable' in bouncer) throw new Error(bouncer.unavailable);
  t.after(() => bouncer.stop());
  // 10 connections of the server's pool to PgBouncer's 2: 2 queries run, 8 wait inside PgBouncer, where 1.18
  // drops a cancel; the server cancels again until each has ended.
  const server = await serverWith(
    t,
    { delayMs: D, databaseUrl: bouncer.url, pooler: 'pgbouncer', dbPoolSize: 10 },
    await bouncer.serverBackends(),
  );
  const burst = await fireBurst({ baseUrl: server.url, path: (i) => `/db-test/${i}`, requests: 10, timeoutMs: 300 });
  const hungUp = performance.now();
  assert.ok(burst.requests.every((r) => r.error === 'timeout'));
  await waitUntil(
    async () => {
      const db = (await server.stats()).database!;
      // PgBouncer counts an idle client connection as active (SHOW POOLS' cl_active): none waiting is idle there.
      const { clientsWaiting } = await bouncer.pools();
      return (await sleeping()) === 0 && db.waiting === 0 && db.idle === db.open && clientsWaiting === 0;
    },
    'no pg_sleep, every connection back in both pools',
    D / 2,
    10,
  );
  const drainMs = performance.now() - hungUp;
  assert.ok(isRunning(bouncer.pid), 'PgBouncer is still running: no cancel connection was closed under it');
  // Had any of the 8 queued queries run after all, the next ones would wait behind it: 2 at once, in one D.
  const next = await fireBurst({ baseUrl: server.url, path: (i) => `/db-test/${i}`, requests: BOUNCER_POOL, timeoutMs: 5 * D });
  assert.ok(next.requests.every((r) => r.status === 200));
  assert.ok(next.totalMs < 1.5 * D, `the next ${BOUNCER_POOL} in one D: ${next.totalMs} ms`);
  t.diagnostic(
    `through PgBouncer (pool ${BOUNCER_POOL}): 10 hung up, none sleeping and both pools idle ${drainMs.toFixed(0)} ms after`,
  );
});
