/**
 * The original, side by side: the real FastAPI app under uvicorn and server.ts, in quick mode. Where no Python
 * with FastAPI and uvicorn exists (CI could not install them), those tests are skipped with the reason; the
 * skip path itself is always tested.
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFastApiPython } from '../scripts/lib/processes/fastapi.ts';
import type { ResultsFile } from '../scripts/lib/results/types.ts';
import type { CompareFastApiResults } from '../scripts/compare-fastapi.ts';
import { waveSizes } from '../scripts/lib/model/waves.ts';
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

test('compare-fastapi --quick: both servers run sync in ceil(N/40) waves; FastAPI with 100 threads in one', async (t) => {
  if (noFastApi) return t.skip(noFastApi);
  const out = await tempDir(t);
  const D = 400;
  const run = runCompare(['--quick', '--requests', '50', '--delay-ms', String(D), '--out', out]);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /THE ORIGINAL, SIDE BY SIDE/);

  const results = JSON.parse(await readFile(join(out, 'compare-fastapi.json'), 'utf8')) as ResultsFile<CompareFastApiResults>;
  assert.equal(results.skipped, undefined);
  assert.match(String(results.fastapi.fastapi), /^\d+\.\d+/);
  const totals = Object.fromEntries(results.measurements.map((m) => [m.label, m]));
  assert.deepEqual(Object.keys(totals), ['fastapi-async', 'fastapi-sync', 'fastapi-sync-limit-100', 'hono-async', 'hono-sync']);
  for (const m of results.measurements) {
    assert.equal(m.ok, 50, m.label);
    assert.equal(m.requests.length, 50, m.label);
  }
  // 50 requests: one wave awaiting, two waves on 40 threads (40 + 10), one wave on 100 threads.
  const waves = { 'fastapi-async': 1, 'hono-async': 1, 'fastapi-sync': 2, 'hono-sync': 2, 'fastapi-sync-limit-100': 1 };
  for (const [label, n] of Object.entries(waves)) {
    const m = totals[label]!;
    assert.equal(m.predictedMs, n * D, label);
    assert.equal(
      waveSizes(m.requests, D).length,
      n,
      `${label}: ${n} wave(s) of ${D} ms: ends at ${m.requests.map((r) => r.endMs)}`,
    );
  }
  // Only server.ts has /stats.
  assert.equal(totals['fastapi-sync']!.server, undefined);
  assert.equal(totals['hono-sync']!.server?.poolSize, 40);
});

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
