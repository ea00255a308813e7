/**
 * Limits: a 10 000-request async burst completes with no errors; an open-file limit too low for the
 * requested N is reported, with how to raise it, before a single connection is opened.
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../scripts/lib/processes/start-server.ts';
import { fireBurst, checkOpenFileLimit } from '../scripts/lib/client/burst.ts';
import { toMeasurement } from '../scripts/lib/results/types.ts';
import { UserError } from '../scripts/lib/core/outcomes.ts';
import { ROOT } from './run-script.ts';

const linuxOnly = { skip: !existsSync('/proc/self/limits') && 'needs /proc/self/limits' };

test('a burst of 10 000 async requests completes with 0 errors', async (t) => {
  const DELAY = 200;
  const server = await startServer({ poolSize: 1, delayMs: DELAY });
  t.after(() => server.stop());
  const burst = await fireBurst({ baseUrl: server.url, path: (i) => `/asyncio-test/${i}`, requests: 10_000, timeoutMs: 30_000 });
  const m = toMeasurement(
    { label: 'async', endpoint: '/asyncio-test', poolSize: null, delayMs: DELAY, predictedMs: DELAY },
    burst,
  );
  assert.deepEqual([m.ok, m.errors, m.errorCounts], [10_000, 0, {}]);
  t.diagnostic(
    `10 000 async requests, D ${DELAY} ms: ${m.errors} errors, total ${m.totalMs.toFixed(0)} ms (connect ${m.connectMs?.toFixed(0)} ms)`,
  );
});

test('an open-file limit too low for N is a UserError that says how to raise it', linuxOnly, () => {
  assert.doesNotThrow(() => checkOpenFileLimit(10));
  assert.throws(
    () => checkOpenFileLimit(1e9),
    (e: unknown) =>
      e instanceof UserError &&
      /1000000000 concurrent requests need about \d+ open files/.test(e.message) &&
      /`ulimit -n \d+`/.test(e.message),
  );
});

test('a script run under a low `ulimit -n` stops before firing, with one sentence', linuxOnly, async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'limits-'));
  t.after(() => rm(out, { recursive: true, force: true }));
  const script = [
    '--import',
    'tsx',
    'scripts/async-vs-sync.ts',
    '--requests',
    '1000',
    '--pool',
    '2',
    '--delay-ms',
    '100',
    '--quiet',
    '--out',
    out,
  ];
  // `exec` so the shell's lowered limit is the script's own, and so is its exit code.
  const run = spawnSync('sh', ['-c', 'ulimit -n 400 && exec "$0" "$@"', process.execPath, ...script], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(run.status, 1, run.stderr);
  assert.match(
    run.stderr,
    /^1000 concurrent requests need about \d+ open files, but this process may open 400: raise the limit with `ulimit -n \d+`[^\n]*\.\n$/,
  );
  assert.deepEqual(readdirSync(out), []);
});
