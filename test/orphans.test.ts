/**
 * No orphans: a script interrupted mid-run (SIGINT, SIGTERM, or SIGKILL, which it cannot catch) leaves no
 * server process behind; a script whose server never becomes ready ends with one sentence. The server's PID
 * is found among the script's children in /proc, so these tests run on Linux only.
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '../scripts/lib/core/wait-until.ts';
import { serverChildrenOf, ROOT } from './run-script.ts';
import { isRunning } from '../scripts/lib/processes/process-tree.ts';

const linuxOnly = { skip: !existsSync('/proc/self/task') && 'needs /proc' };

for (const [signal, expected] of [
  ['SIGINT', { code: 130, signal: null }],
  ['SIGTERM', { code: 143, signal: null }],
  ['SIGKILL', { code: null, signal: 'SIGKILL' }], // it cannot clean up: the server notices its parent is gone
] as const) {
  test(`a script killed by ${signal} mid-burst leaves no server process behind`, linuxOnly, async (t) => {
    const out = await mkdtemp(join(tmpdir(), 'orphans-'));
    const script = spawn(
      process.execPath,
      ['--import', 'tsx', 'scripts/async-vs-sync.ts', '--requests', '10', '--pool', '2', '--delay-ms', '5000', '--out', out],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = once(script, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    let serverPid: number | undefined;
    t.after(async () => {
      // Whatever the assertions said, stop what this test started, by PID.
      if (script.exitCode === null && script.signalCode === null) script.kill('SIGKILL');
      if (serverPid !== undefined && isRunning(serverPid)) process.kill(serverPid, 'SIGKILL');
      await rm(out, { recursive: true, force: true });
    });

    // The script's progress line says it is firing once its server is up and ready.
    const lines = createInterface({ input: script.stderr! });
    await new Promise<void>((resolve, reject) => {
      lines.on('line', (line) => /\d+ requests to \//.test(line) && resolve());
      void exited.then(() => reject(new Error('the script ended before firing')));
    });
    [serverPid] = serverChildrenOf(script.pid!);
    assert.ok(serverPid, 'found the server among the script’s children');

    script.kill(signal);
    const [code, gotSignal] = await exited;
    assert.deepEqual({ code, signal: gotSignal }, expected);
    await waitUntil(() => !isRunning(serverPid!), `server ${serverPid} to exit after its script got ${signal}`, 10_000);
  });
}

test('a script whose server never becomes ready ends with one sentence and leaves nothing behind', async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'orphans-'));
  t.after(() => rm(out, { recursive: true, force: true }));
  // The scripts pass the pool and delay as flags; a bad queue limit reaches the server from the environment.
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/async-vs-sync.ts', '--quick', '--out', out], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, QUEUE_LIMIT: 'lots' },
  });
  assert.equal(run.status, 1);
  assert.equal(
    run.stderr,
    'the server exited before it was ready (exit code 2). It said: server.ts: QUEUE_LIMIT must be a whole number from 0 to 1000000, got "lots".\n',
  );
  assert.deepEqual(readdirSync(out), [], 'no results file, not even half of one');
});
