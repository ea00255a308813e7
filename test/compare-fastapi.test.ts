/**
 * The original, side by side, where it is not a run of its own: the skip path (always tested), and uvicorn gone with
 * the process that started it (skipped, with the reason, where no Python has FastAPI and uvicorn). Its quick run's
 * waves are checked in test/scripts.test.ts, on run-all's run.
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFastApiPython } from '../scripts/lib/processes/fastapi.ts';
import type { ResultsFile } from '../scripts/lib/results/types.ts';
import { waitUntil } from '../scripts/lib/core/wait-until.ts';
import { isRunning } from '../scripts/lib/processes/process-tree.ts';
import { ROOT, parentThatStarts } from './run-script.ts';

const found = await findFastApiPython();
const noFastApi = 'missing' in found ? `FastAPI comparison not run: ${found.missing}` : undefined;

function runCompare(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/compare-fastapi.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
}

async function tempDir(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'compare-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('without FastAPI: says what is missing and how to get it, writes a skipped JSON, exits 0', async (t) => {
  const out = await tempDir(t);
  const run = runCompare(['--quick', '--python', join(out, 'no-such-python3'), '--out', out]);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /skipped: no Python with FastAPI and uvicorn was found \(.*no-such-python3: not found\)/);
  assert.match(run.stdout, /apt-get install python3-fastapi python3-uvicorn/);
  assert.match(run.stdout, /pip install fastapi uvicorn/);
  const results = JSON.parse(await readFile(join(out, 'compare-fastapi.json'), 'utf8')) as ResultsFile;
  assert.equal(results.experiment, 'compare-fastapi');
  assert.match(String(results.skipped), /no-such-python3: not found/);
  assert.deepEqual(results.measurements, []);
});

test('uvicorn stops by itself when the process that started it is killed outright', async (t) => {
  if (noFastApi || 'missing' in found) return t.skip(noFastApi);
  // A parent that starts FastAPI, prints uvicorn's PID, and waits to be killed.
  const { parent, pids } = await parentThatStarts(
    t,
    'uvicorn',
    `import { startFastApi } from './scripts/lib/processes/fastapi.ts';
     const server = await startFastApi({ python: ${JSON.stringify(found.python)}, delayMs: 100 });
     console.log('uvicorn', server.pid);`,
  );
  const pid = pids[0]!;
  assert.doesNotThrow(() => process.kill(pid, 0), 'uvicorn runs');

  parent.kill('SIGKILL');
  // Its stdin closes with the parent; uvicorn shuts down. Poll for it to be gone, up to a generous deadline.
  await waitUntil(() => !isRunning(pid), `uvicorn (PID ${pid}) to exit after its parent was killed`, 15_000, 50);
});
