/**
 * Each script's --quick run, end to end, writing to a temporary folder (never to results/).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResultsFile } from '../scripts/lib/results.ts';
import { runScript, tempDir } from './run-script.ts';

test('async-vs-sync --quick: async is one wave, sync is ceil(N/P) waves, and the JSON holds every request', async (t) => {
  const out = await tempDir(t);
  const run = runScript('async-vs-sync.ts', ['--quick', '--requests', '12', '--pool', '4', '--delay-ms', '200', '--out', out]);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /TEST RESULTS/);
  const results = JSON.parse(await readFile(join(out, 'async-vs-sync.json'), 'utf8')) as ResultsFile;
  assert.equal(results.experiment, 'async-vs-sync');
  assert.deepEqual(results.params, { requests: 12, delayMs: 200, poolSize: 4, quick: true });
  const [asyncRun, syncRun] = results.measurements;
  assert.equal(asyncRun?.label, 'async');
  assert.equal(syncRun?.label, 'sync');
  assert.equal(asyncRun.predictedMs, 200);
  assert.equal(syncRun.predictedMs, 600);
  for (const m of [asyncRun, syncRun]) {
    assert.equal(m.ok, 12);
    assert.equal(m.errors, 0);
    assert.equal(m.requests.length, 12);
    assert.ok(m.totalMs >= m.predictedMs! * 0.95 && m.totalMs < m.predictedMs! + 200, `${m.label} total ${m.totalMs}`);
  }
});

test('a bad flag ends a script with one sentence and exit code 2', () => {
  const run = runScript('async-vs-sync.ts', ['--requests', 'many']);
  assert.equal(run.status, 2);
  assert.equal(run.stderr, 'async-vs-sync.ts: --requests must be a whole number from 1 to 1000000, got "many".\n');
});

test('--help prints what the script does and its flags', () => {
  const run = runScript('async-vs-sync.ts', ['--help']);
  assert.equal(run.status, 0);
  for (const flag of ['--requests', '--delay-ms', '--pool', '--quick', '--out']) assert.ok(run.stdout.includes(flag), flag);
});

test('run-all --quick runs every experiment and writes summary.json and REPORT.md', async (t) => {
  const out = await tempDir(t);
  const run = runScript('run-all.ts', ['--quick', '--quiet', '--out', out]);
  assert.equal(run.status, 0, run.stderr);
  const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
  assert.ok(summary.experiments.length >= 1);
  for (const experiment of summary.experiments) {
    assert.ok(['ok', 'skipped'].includes(experiment.status), `${experiment.experiment}: ${experiment.status} ${experiment.reason ?? ''}`);
    assert.ok(experiment.file, experiment.experiment);
  }
  const report = await readFile(join(out, 'REPORT.md'), 'utf8');
  assert.match(report, /## async-vs-sync/);
  assert.match(report, /blog \(FastAPI/);
});
