import { after, test } from './harness.ts';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { parseServerSettings, DEFAULT_SETTINGS, SettingsError, settingsToArgs, type ServerSettings } from '../server/settings.ts';
import { parseScriptFlags } from '../scripts/lib/flags.ts';
import { UserError } from '../scripts/lib/core/outcomes.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './run-script.ts';

/** A folder for --fifo-dir (removed after the tests), and a file in it. */
const fifoDir = mkdtempSync(join(tmpdir(), 'settings-'));
writeFileSync(join(fifoDir, 'plain'), '');
after(() => rmSync(fifoDir, { recursive: true, force: true }));

test('server settings: defaults are uvicorn-like and FastAPI-sized', () => {
  assert.deepEqual(parseServerSettings([], {}), DEFAULT_SETTINGS);
  assert.equal(DEFAULT_SETTINGS.host, '127.0.0.1');
  assert.equal(DEFAULT_SETTINGS.port, 8000);
  assert.equal(DEFAULT_SETTINGS.poolSize, 40);
  assert.equal(DEFAULT_SETTINGS.delayMs, 3000);
  assert.equal(DEFAULT_SETTINGS.faultRoutes, false, 'no client can reach the fault routes unless asked for');
});

test('server settings: flags win over environment variables, which win over defaults', () => {
  const env = { POOL_SIZE: '8', DELAY_MS: '250', PORT: '0', HOST: '::1', QUEUE_LIMIT: '5', QUIET: '1' };
  assert.deepEqual(parseServerSettings([], { ...env, FAULT_ROUTES: '1' }), {
    ...DEFAULT_SETTINGS,
    host: '::1',
    port: 0,
    poolSize: 8,
    delayMs: 250,
    queueLimit: 5,
    quiet: true,
    faultRoutes: true,
  });
  assert.equal(parseServerSettings(['--fault-routes'], {})?.faultRoutes, true);
  const flagged = parseServerSettings(['--pool', '3', '--delay-ms', '10', '--port', '9001'], env);
  assert.equal(flagged?.poolSize, 3);
  assert.equal(flagged?.delayMs, 10);
  assert.equal(flagged?.port, 9001);
  assert.equal(parseServerSettings(['--help'], {}), null);
  const io = parseServerSettings(['--database-url', 'postgres://app:pw@127.0.0.1:5432/db', '--db-pool', '30'], {
    UPSTREAM_URL: 'http://127.0.0.1:8001',
  });
  assert.deepEqual(
    [io?.databaseUrl, io?.dbPoolSize, io?.upstreamUrl],
    ['postgres://app:pw@127.0.0.1:5432/db', 30, 'http://127.0.0.1:8001'],
  );
  assert.equal(DEFAULT_SETTINGS.dbPoolSize, null, "no --db-pool: node-postgres' own default");
  assert.equal(parseServerSettings([], { DB_POOLER: 'pgbouncer' })?.pooler, 'pgbouncer');
  assert.equal(parseServerSettings(['--pooler', 'none'], { DB_POOLER: 'pgbouncer' })?.pooler, null, 'none: PostgreSQL itself');
  assert.equal(DEFAULT_SETTINGS.dbCancel, true, 'a hung-up query is cancelled unless told otherwise');
  assert.equal(parseServerSettings([], { DB_CANCEL: 'off' })?.dbCancel, false);
  assert.equal(parseServerSettings(['--db-cancel', 'ON'], { DB_CANCEL: 'off' })?.dbCancel, true);
  assert.equal(DEFAULT_SETTINGS.dbTimeoutMs, null, 'no statement_timeout unless asked for');
});

test('typed settings become the flags that give the server exactly them, every setting of the table included', () => {
  const given = {
    host: '127.0.0.2',
    port: 0,
    poolSize: 7,
    delayMs: 0,
    queueLimit: 10,
    cpuIterations: 5,
    hashIterations: 6,
    shutdownGraceMs: 1,
    workers: 3,
    quiet: true,
    faultRoutes: true,
    upstreamUrl: 'http://127.0.0.1:1',
    databaseUrl: 'postgres://a@127.0.0.1:2/db',
    dbPoolSize: 4,
    dbConnectTimeoutMs: 9,
    pooler: 'pgbouncer',
    dbCancel: false,
    dbTimeoutMs: 100,
    taskLogSize: 64,
    fifoDir,
  } satisfies ServerSettings; // a setting added to the table and not here does not compile
  // Each setting differs from its default, so a setting the function forgot would show.
  for (const [key, value] of Object.entries(given)) assert.notEqual(value, DEFAULT_SETTINGS[key as keyof typeof given], key);
  assert.deepEqual(parseServerSettings(settingsToArgs(given), {}), { ...DEFAULT_SETTINGS, ...given });
  assert.deepEqual(parseServerSettings(settingsToArgs({ poolSize: 2 }), {}), { ...DEFAULT_SETTINGS, poolSize: 2 });
  assert.deepEqual(settingsToArgs({ quiet: false, dbPoolSize: null }), [], 'a switch off and a null are the defaults: no flag');
});

test('server settings: bad values are refused with a sentence naming the setting', () => {
  for (const [argv, env, pattern] of [
    [['--pool', '0'], {}, /--pool must be a whole number from 1/],
    [['--db-cancel', 'maybe'], {}, /^--db-cancel must be on or off, got "maybe"\.$/],
    [[], { DB_CANCEL: '1' }, /^DB_CANCEL must be on or off/],
    [['--db-timeout-ms', '0'], {}, /--db-timeout-ms must be a whole number from 1/],
    [['--pool', 'many'], {}, /--pool .* got "many"/],
    [['--delay-ms', '-5'], {}, /--delay-ms/],
    [['--port', '70000'], {}, /--port .* 0 to 65535/],
    [['--delay-ms', '1.5'], {}, /--delay-ms/],
    [[], { POOL_SIZE: 'x' }, /POOL_SIZE must be/],
    [['--host', ' '], {}, /--host must not be empty/],
    [['--bogus'], {}, /Unknown option '--bogus'/],
    [['--upstream-url', 'ftp://example.com'], {}, /^--upstream-url must be a http:\/\/ or https:\/\/ URL with a host/],
    [[], { DATABASE_URL: 'localhost:5432' }, /^DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/],
    [['--db-pool', '0'], {}, /^--db-pool must be a whole number from 1/],
    [['--pooler', 'odyssey'], {}, /^--pooler must be one of pgbouncer, none, got "odyssey"\.$/],
    [[], { DB_POOLER: 'PgBouncer' }, /^DB_POOLER must be one of pgbouncer, none/],
    [['--fifo-dir', 'fifos'], {}, /^--fifo-dir must be an absolute path to a folder, got "fifos"/],
    [[], { FIFO_DIR: join(fifoDir, 'plain') }, /^FIFO_DIR .*plain is not a folder/],
    [['--fifo-dir', join(fifoDir, 'none')], {}, /^--fifo-dir .*none: ENOENT/],
  ] as const) {
    assert.throws(
      () => parseServerSettings([...argv], env),
      (e: unknown) => e instanceof SettingsError && pattern.test(e.message),
    );
  }
});

test('server.ts refuses a bad flag at start: one line on stderr, exit code 2', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'server.ts', '--pool', 'lots'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(run.status, 2);
  assert.match(run.stderr, /^server\.ts: --pool must be a whole number from 1 to 1024, got "lots"\.\n$/);
  assert.equal(run.stdout, '');
});

test('server.ts --help lists every setting with its environment twin', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'server.ts', '--help'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(run.status, 0);
  for (const word of [
    '--host',
    'HOST',
    '--port',
    'PORT',
    '--pool',
    'POOL_SIZE',
    '--delay-ms',
    'DELAY_MS',
    '--queue',
    'QUEUE_LIMIT',
    '--quiet',
    '--fault-routes',
    'FAULT_ROUTES',
    '--pooler',
    'DB_POOLER',
  ]) {
    assert.ok(run.stdout.includes(word), `help mentions ${word}`);
  }
});

test('script flags: --quick changes defaults, explicit flags win, bad numbers are refused', () => {
  const spec = {
    about: 'test',
    defaultOut: 'results',
    numbers: { requests: { help: 'n', default: 100, quick: 10 }, delayMs: { help: 'd', default: 3000, min: 0 } },
  };
  assert.deepEqual(parseScriptFlags(spec, []), {
    requests: 100,
    delayMs: 3000,
    out: 'results',
    quick: false,
    quiet: false,
    repeat: 1,
    client: 'raw',
    runtime: 'node',
  });
  assert.equal(parseScriptFlags(spec, ['--quick']).requests, 10);
  assert.equal(parseScriptFlags(spec, ['--runtime', 'deno']).runtime, 'deno');
  assert.equal(parseScriptFlags(spec, ['--quick', '--requests', '7']).requests, 7);
  assert.equal(parseScriptFlags(spec, ['--delay-ms', '0', '--out', '/tmp/x']).out, '/tmp/x');
  for (const argv of [
    ['--requests', '0'],
    ['--requests', 'ten'],
    ['--delay-ms', '-1'],
    ['--nope'],
    ['--out', ''],
    ['--runtime', 'python'],
  ]) {
    assert.throws(
      () => parseScriptFlags(spec, argv),
      (e: unknown) => e instanceof UserError && e.exitCode === 2,
    );
  }
});
