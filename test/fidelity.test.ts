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

test('fidelity --quick: both clients on the same bursts, ratios and targets that follow from the totals, the server\'s intake', async (t) => {
  const out = await tempDir(t);
  const D = 200;
  const run = runScript('fidelity.ts', ['--quick', '--max-requests', '100', '--pool', '4', '--delay-ms', String(D), '--out', out]);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /TARGETS/);
  assert.match(run.stdout, /warm-up of 4 pool threads/);

  const results = JSON.parse(await readFile(join(out, 'fidelity.json'), 'utf8')) as ResultsFile & {
    ratios: Record<string, number>;
    intakeMs: Record<string, number>;
    startup: { spawnToReadyMs: number; poolWarmUpMs: number };
    memory: { rssWarmBytes: number; rssAfterSyncBytes: number; rssEndBytes: number };
    targets: { figure: string; target: string; measured: string; pass: boolean }[];
  };
  assert.equal(results.experiment, 'fidelity');
  const find = (label: string) => {
    const m = results.measurements.find((x) => x.label === label);
    assert.ok(m, `${label} in ${results.measurements.map((x) => x.label).join(', ')}`);
    return m;
  };
  for (const m of results.measurements) {
    const runs = m.repeats!.totalsMs.length;
    assert.equal(m.ok, 100 * runs, `${m.label}: ${JSON.stringify(m.errorCounts)}`);
    assert.equal(m.requests.length, 100, m.label);
    assert.equal(m.totalMs, m.repeats!.median, m.label);
  }
  // The two clients fired the same bursts, as often, taking turns; curl is the blog's method.
  for (const kind of ['trivial', 'async']) {
    assert.equal(find(`${kind}-suite-100`).repeats!.totalsMs.length, find(`${kind}-reference-100`).repeats!.totalsMs.length);
    assert.equal(find(`${kind}-curl-100`).client, 'curl');
  }
  assert.ok(find('trivial-reference-100').repeats!.totalsMs.length >= 5, 'the trivial burst is repeated for a steady median');
  // What each burst is: async waits D, the trivial route does not, sync on 4 threads is 25 waves of D.
  for (const client of ['suite', 'reference', 'curl']) {
    const asyncTotal = find(`async-${client}-100`).totalMs;
    assert.ok(asyncTotal >= D * 0.95 && asyncTotal < D * 5, `async-${client}-100: ${asyncTotal} ms`);
    assert.ok(find(`trivial-${client}-100`).totalMs < D * 5, `trivial-${client}-100`);
  }
  assert.ok(find('sync-suite-100').totalMs >= 25 * D * 0.95, 'sync: 100 requests on 4 threads');
  // The ratios are the totals' ratios, not a constant.
  for (const kind of ['trivial', 'async']) {
    const reference = find(`${kind}-reference-100`).totalMs;
    for (const client of ['suite', 'curl']) {
      const expected = Math.round((find(`${kind}-${client}-100`).totalMs / reference) * 1000) / 1000;
      assert.equal(results.ratios[`${kind}-${client}-100`], expected, `${kind}-${client}-100`);
    }
  }
  // The server's side: it took every request of each suite and reference burst in, within the burst's total.
  for (const label of ['trivial-suite-100', 'trivial-reference-100', 'async-suite-100', 'async-reference-100']) {
    const m = find(label);
    assert.equal(m.server?.arrivals.count, 100, `${label}: arrivals`);
    const spread = m.server!.arrivals.lastMs! - m.server!.arrivals.firstMs!;
    assert.ok(Math.abs(results.intakeMs[label]! - spread) < 0.002, `${label}: intake ${results.intakeMs[label]} vs arrivals ${spread}`);
    assert.ok(results.intakeMs[label]! >= 0 && results.intakeMs[label]! <= m.totalMs, `${label}: intake ${results.intakeMs[label]} of ${m.totalMs} ms`);
  }
  // A target passes exactly when its measured figure is within it.
  const row = (figure: RegExp) => results.targets.find((x) => figure.test(x.figure))!;
  const asyncRow = row(/^async, N = 100/);
  assert.equal(asyncRow.target, `≤ ${D + 25} ms`);
  assert.equal(asyncRow.pass, find('async-suite-100').totalMs <= D + 25);
  const warmRow = row(/^warm-up of 4 pool threads/);
  assert.equal(warmRow.pass, results.startup.poolWarmUpMs <= 1000);
  assert.ok(results.startup.poolWarmUpMs > 0 && results.startup.spawnToReadyMs > results.startup.poolWarmUpMs);
  for (const bytes of Object.values(results.memory)) assert.ok(bytes > 10 * 2 ** 20);
});

test('fidelity refuses --client: it runs every client itself', () => {
  const run = runScript('fidelity.ts', ['--client', 'curl']);
  assert.equal(run.status, 2);
  assert.equal(run.stderr, 'fidelity.ts: it runs every client itself; --client does not apply.\n');
});
