/**
 * A failed or interrupted measurement is not a result: a script stopped mid-burst keeps what finished and marks
 * the cut burst; a complete result is never replaced by an interrupted one; a server that dies mid-run ends the
 * script in one sentence; a burst with errors the experiment did not expect fails the script.
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import type { ResultsFile } from '../scripts/lib/results/types.ts';
import { startServer } from '../scripts/lib/processes/start-server.ts';
import { waitUntil } from '../scripts/lib/core/wait-until.ts';
import { ROOT, runScript, runScriptAsync, tempDir, serverChildrenOf, embeddedPostgresProcesses } from './run-script.ts';
import { isRunning } from '../scripts/lib/processes/process-tree.ts';

/** Each request of the interrupted runs: five waves of it make a burst a signal lands in the middle of. */
const SLOW_D = 400;
const linuxOnly = { skip: !existsSync('/proc/self/task') && 'needs /proc' };

/**
 * async-vs-sync with 10 requests of 400 ms on 2 threads into `out` (and `more` flags), once its sync burst has begun:
 * five waves, 2 s in which a signal lands mid-burst. --quick: a smaller warm-up before each burst.
 */
async function startAsyncVsSync(t: { after: (fn: () => unknown) => void }, out: string, more: string[] = []) {
  const args = ['--quick', '--requests', '10', '--pool', '2', '--delay-ms', String(SLOW_D), '--out', out, ...more];
  const script = spawn(process.execPath, ['--import', 'tsx', 'scripts/async-vs-sync.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(script, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let stderr = '';
  const lines = createInterface({ input: script.stderr! });
  lines.on('line', (line) => (stderr += `${line}\n`));
  script.stdout!.resume();
  t.after(() => {
    if (script.exitCode === null && script.signalCode === null) script.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => /sync: \d+ requests to \/sync-test/.test(line) && resolve());
    void exited.then(() => reject(new Error(`the script ended before the sync burst:\n${stderr}`)));
  });
  return { script, exited, stderr: () => stderr };
}

const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as ResultsFile;

test(
  'SIGINT mid-burst: exit 130, no server left, the finished burst kept and the cut one marked interrupted',
  linuxOnly,
  async (t) => {
    const out = await tempDir(t);
    const { script, exited, stderr } = await startAsyncVsSync(t, out);
    const [serverPid] = serverChildrenOf(script.pid!);
    assert.ok(serverPid, 'found the server among the script’s children');
    t.after(() => isRunning(serverPid) && process.kill(serverPid, 'SIGKILL'));

    script.kill('SIGINT');
    const [code] = await exited;
    assert.equal(code, 130);
    await waitUntil(() => !isRunning(serverPid), 'the server to be gone', 10_000);
    assert.match(
      stderr(),
      /async-vs-sync: interrupted \(SIGINT\): kept 1 finished measurement\(s\) and the cut one \(sync\), marked interrupted, in .*async-vs-sync\.json\.\n$/,
    );

    const results = await readJson(join(out, 'async-vs-sync.json'));
    assert.equal(results.interrupted, true);
    assert.equal(results.interruptedBy, 'SIGINT');
    const [asyncRun, syncRun] = results.measurements;
    assert.equal(asyncRun?.label, 'async');
    assert.equal(asyncRun.interrupted, undefined, 'the async burst finished before the signal');
    assert.equal(asyncRun.ok, 10);
    assert.equal(syncRun?.label, 'sync');
    assert.equal(syncRun.interrupted, true);
    assert.ok((syncRun.errorCounts.interrupted ?? 0) > 0, JSON.stringify(syncRun.errorCounts));
    assert.equal(results.charts, undefined, 'an interrupted run draws no pictures');
  },
);

test('an interrupted run never replaces a complete result: it goes beside it', linuxOnly, async (t) => {
  const out = await tempDir(t);
  const complete = `${JSON.stringify({ experiment: 'async-vs-sync', createdAt: '2026-01-01T00:00:00.000Z', params: {}, measurements: [] })}\n`;
  await writeFile(join(out, 'async-vs-sync.json'), complete);
  const { script, exited } = await startAsyncVsSync(t, out);
  script.kill('SIGTERM');
  const [code] = await exited;
  assert.equal(code, 143);
  assert.equal(await readFile(join(out, 'async-vs-sync.json'), 'utf8'), complete, 'the complete result is untouched');
  const cut = await readJson(join(out, 'async-vs-sync.interrupted.json'));
  assert.equal(cut.interrupted, true);
  assert.equal(cut.interruptedBy, 'SIGTERM');
});

test('a server that dies mid-run: one sentence, exit 1, the finished burst kept and the cut one marked', async (t) => {
  const out = await tempDir(t);
  const server = await startServer({ poolSize: 2, delayMs: SLOW_D });
  t.after(() => server.stop());
  const { exited, stderr } = await startAsyncVsSync(t, out, ['--url', server.url]);
  process.kill(server.pid, 'SIGKILL');
  const [code] = await exited;
  assert.equal(code, 1);
  assert.match(
    stderr(),
    new RegExp(
      `async-vs-sync: interrupted \\(the server at ${server.url} stopped answering\\): kept 1 finished measurement\\(s\\) and the cut one \\(sync\\)`,
    ),
  );
  assert.doesNotMatch(stderr(), /TypeError|\n\s+at /, 'no stack trace');
  const results = await readJson(join(out, 'async-vs-sync.json'));
  assert.equal(results.interrupted, true);
  assert.deepEqual(
    results.measurements.map((m) => [m.label, m.interrupted ?? false]),
    [
      ['async', false],
      ['sync', true],
    ],
  );
});

/** A quick async-vs-sync of 6 requests of 100 ms with one thread: the sync burst is mostly beyond the pool. */
const SIX_ON_ONE_THREAD = ['--requests', '6', '--pool', '1', '--delay-ms', '100', '--quick'];

test('refusals the model predicts are a result: a burst beyond the pool and its queue exits 0, the refusals counted', async (t) => {
  const out = await tempDir(t);
  // One thread and no queue: of 6 sync requests, 5 are answered 503 at once, as the model says.
  const server = await startServer({ poolSize: 1, delayMs: 100, queueLimit: 0 });
  t.after(() => server.stop());
  const run = runScript('async-vs-sync.ts', ['--url', server.url, ...SIX_ON_ONE_THREAD, '--out', out]);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /\/sync-test .* 5 \(model 5\)/);
  const sync = (await readJson(join(out, 'async-vs-sync.json'))).measurements.find((m) => m.label === 'sync')!;
  assert.deepEqual([sync.ok, sync.errors, sync.expectedRefused, sync.errorCounts], [1, 5, 5, { 'HTTP 503': 5 }]);
});

test('a burst with errors the experiment does not expect fails it: exit 1, one sentence, results kept and marked', async (t) => {
  const out = await tempDir(t);
  // Not server.ts: its async route answers, its sync route fails every time.
  const broken = createServer((request, response) => {
    const failing = request.url?.startsWith('/sync-test/');
    response
      .writeHead(failing ? 500 : 200, { 'Content-Type': 'application/json' })
      .end(JSON.stringify(failing ? { detail: 'boom' } : { status: 'done' }));
  });
  await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
  t.after(() => broken.close());
  const url = `http://127.0.0.1:${(broken.address() as { port: number }).port}`;
  const run = await runScriptAsync('async-vs-sync.ts', ['--url', url, ...SIX_ON_ONE_THREAD, '--quiet', '--out', out]);
  assert.equal(run.status, 1, run.stderr);
  assert.equal(run.stderr, 'async-vs-sync: sync: 6 of 6 requests failed (6 × HTTP 500).\n');
  const results = await readJson(join(out, 'async-vs-sync.json'));
  assert.deepEqual(results.failures, ['sync: 6 of 6 requests failed (6 × HTTP 500)']);
  assert.equal(results.measurements.find((m) => m.label === 'async')?.ok, 6);
});

test(
  'real-io killed outright (SIGKILL) mid-burst: its PostgreSQL and the cluster’s folder are gone soon after',
  linuxOnly,
  async (t) => {
    const out = await tempDir(t);
    const clusters = () => new Set(readdirSync(tmpdir()).filter((name) => name.startsWith('embedded-postgres-')));
    const before = clusters();
    const othersBefore = embeddedPostgresProcesses();
    const script = spawn(
      process.execPath,
      ['--import', 'tsx', 'scripts/real-io.ts', '--quick', '--delay-ms', String(SLOW_D), '--out', out],
      {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    t.after(() => script.exitCode === null && script.signalCode === null && script.kill('SIGKILL'));
    const exited = once(script, 'exit');
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: script.stderr! }).on(
        'line',
        (line) => /database: \d+ requests to \/db-test/.test(line) && resolve(),
      );
      void exited.then(() => reject(new Error('real-io ended before its database burst')));
    });
    assert.ok(embeddedPostgresProcesses(othersBefore).length > 0, 'PostgreSQL runs during the burst');
    script.kill('SIGKILL');
    await exited;
    await waitUntil(() => embeddedPostgresProcesses(othersBefore).length === 0, 'PostgreSQL to be gone', 10_000);
    await waitUntil(() => [...clusters()].every((name) => before.has(name)), 'the cluster’s folder to be deleted', 10_000);
  },
);
