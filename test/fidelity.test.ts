/**
 * fidelity.ts --quick, end to end into a temporary folder: the contract, the clients side by side, the
 * ratios and the target table. No speed is asserted here; the figures live in results/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResultsFile } from '../scripts/lib/results.ts';
import { runScript, tempDir } from './run-script.ts';

test('fidelity --quick writes the contract plus ratios, start-up, memory and a judged target table', async (t) => {
  const out = await tempDir(t);
  const run = runScript('fidelity.ts', ['--quick', '--max-requests', '100', '--pool', '4', '--delay-ms', '200', '--out', out]);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /TARGETS/);
  assert.match(run.stdout, /warm-up of 4 pool threads/);

  const results = JSON.parse(await readFile(join(out, 'fidelity.json'), 'utf8')) as ResultsFile & {
    ratios: Record<string, number>;
    startup: { spawnToReadyMs: number; poolWarmUpMs: number };
    memory: { rssWarmBytes: number; rssAfterSyncBytes: number; rssEndBytes: number };
    targets: { figure: string; target: string; measured: string; pass: boolean }[];
  };
  assert.equal(results.experiment, 'fidelity');
  const labels = results.measurements.map((m) => m.label);
  for (const label of ['sync-suite-100', 'trivial-suite-100', 'trivial-reference-100', 'trivial-curl-100', 'async-suite-100', 'async-reference-100', 'async-curl-100']) {
    assert.ok(labels.includes(label), `${label} in ${labels.join(', ')}`);
  }
  for (const m of results.measurements) {
    assert.equal(m.ok, 100, `${m.label}: ${JSON.stringify(m.errorCounts)}`);
    assert.equal(m.requests.length, 100, m.label);
    assert.ok(m.repeats && m.repeats.totalsMs.length >= 1 && m.totalMs === m.repeats.median, m.label);
  }
  // The trivial route is repeated more than the rest; the reference's bursts as often as the suite's.
  const trivial = results.measurements.find((m) => m.label === 'trivial-reference-100')!;
  assert.ok(trivial.repeats!.totalsMs.length >= 5);
  assert.equal(results.measurements.find((m) => m.label === 'trivial-curl-100')?.client, 'curl');

  for (const key of ['trivial-suite-100', 'trivial-curl-100', 'async-suite-100', 'async-curl-100']) {
    assert.equal(typeof results.ratios[key], 'number', key);
    assert.ok(Number.isFinite(results.ratios[key]) && results.ratios[key]! > 0, `${key}: ${results.ratios[key]}`);
  }
  assert.ok(results.startup.poolWarmUpMs > 0 && results.startup.spawnToReadyMs > results.startup.poolWarmUpMs);
  for (const bytes of Object.values(results.memory)) assert.ok(bytes > 10 * 2 ** 20);
  assert.ok(results.targets.length >= 6);
  for (const target of results.targets) assert.equal(typeof target.pass, 'boolean', target.figure);
});

test('fidelity refuses --client: it runs every client itself', () => {
  const run = runScript('fidelity.ts', ['--client', 'curl']);
  assert.equal(run.status, 2);
  assert.equal(run.stderr, 'fidelity.ts: it runs every client itself; --client does not apply.\n');
});
