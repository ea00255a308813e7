/**
 * fidelity.ts --quick, end to end into a temporary folder: both clients on the same bursts, the server's own
 * account of every async total, the ratios, and targets that follow from the figures of the same run. No speed is
 * asserted here (the figures and whether they meet their targets live in results/): what is checked is that the
 * figures are what they say they are.
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResultsFile } from '../scripts/lib/results/types.ts';
import type { FidelityResults } from '../scripts/fidelity.ts';
import { waveSizes } from '../scripts/lib/model/waves.ts';
import { median } from '../scripts/lib/model/percentiles.ts';
import { runScript, tempDir } from './run-script.ts';

test("fidelity --quick: both clients on the same bursts, every async total taken apart by the server's clock, targets that follow from the figures", async (t) => {
  const out = await tempDir(t);
  const D = 200;
  const run = runScript('fidelity.ts', [
    '--quick',
    '--max-requests',
    '100',
    '--pool',
    '4',
    '--delay-ms',
    String(D),
    '--out',
    out,
  ]);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /TARGETS/);
  assert.match(run.stdout, /this machine: \/health × 100 in [\d.]+ ms/);

  const results = JSON.parse(await readFile(join(out, 'fidelity.json'), 'utf8')) as ResultsFile<FidelityResults>;
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
  assert.ok(find('async-reference-100').repeats!.totalsMs.length >= 3, 'a ratio of async bursts is one of medians');

  // What each burst is: async requests wait D (curl's own timing of each request says so too) and the trivial ones
  // do not (a hundred curl processes starting at once can hold one back longer than that, so not curl's); sync on
  // 4 threads is 25 waves of 4.
  for (const client of ['suite', 'reference', 'curl']) {
    const waited = find(`async-${client}-100`).requests.map((r) => r.endMs - r.startMs);
    assert.ok(Math.min(...waited) >= D * 0.95, `async-${client}-100: a request answered in ${Math.min(...waited)} ms`);
    if (client === 'curl') continue;
    const answered = find(`trivial-${client}-100`).requests.map((r) => r.endMs - r.startMs);
    assert.ok(
      Math.max(...answered) < Math.min(...waited),
      `${client}: the slowest /health answer came after the fastest async one`,
    );
  }
  assert.deepEqual(waveSizes(find('sync-suite-100').requests, D), Array(25).fill(4), 'sync: 100 requests on 4 threads');

  // The ratios come from the totals, not a constant: the suite's, run by run over the reference's of the same turn
  // (their median, inside its interval); curl's one run over the reference's median.
  for (const kind of ['trivial', 'async']) {
    const reference = find(`${kind}-reference-100`);
    const suiteRuns = find(`${kind}-suite-100`).repeats!.totalsMs;
    const pairs = suiteRuns.map((total, k) => total / reference.repeats!.totalsMs[k]!).sort((a, b) => a - b);
    const paired = results.pairedRatios[`${kind}-suite-100`]!;
    assert.equal(results.ratios[`${kind}-suite-100`], paired.median, `${kind}-suite-100`);
    assert.ok(Math.abs(paired.median - median(pairs)) < 0.001, `${kind}-suite-100: ${paired.median}, pairs ${pairs}`);
    assert.ok(paired.low >= pairs[0]! - 0.001 && paired.high <= pairs.at(-1)! + 0.001 && paired.low <= paired.high);
    const curl = Math.round((find(`${kind}-curl-100`).totalMs / reference.totalMs) * 1000) / 1000;
    assert.equal(results.ratios[`${kind}-curl-100`], curl, `${kind}-curl-100`);
  }
  // The server's account of each async burst: every request arrived and was answered, intake is the arrivals'
  // spread, output runs from the last timer due to the last answer written, and D + intake + output adds up.
  for (const label of ['async-suite-100', 'async-reference-100', 'async-curl-100']) {
    const { server } = find(label);
    const account = results.accounts[label]!;
    assert.ok(account, `${label}: an account`);
    assert.deepEqual([server!.arrivals.count, server!.answers.count], [100, 100], `${label}: arrivals and answers`);
    assert.ok(Math.abs(account.intakeMs - (server!.arrivals.lastMs! - server!.arrivals.firstMs!)) < 0.002, `${label}: intake`);
    assert.ok(Math.abs(account.outputMs - (server!.answers.lastMs! - server!.arrivals.lastMs! - D)) < 0.002, `${label}: output`);
    assert.ok(Math.abs(account.accountedMs - (D + account.intakeMs + account.outputMs)) < 0.002, `${label}: D + intake + output`);
    // A libuv timer counts whole milliseconds, so it may fire up to one early by the high-resolution clock.
    assert.ok(account.intakeMs >= 0 && account.outputMs > -1, `${label}: ${JSON.stringify(account)}`);
  }
  assert.equal(results.accounts['trivial-suite-100'], undefined, 'no account of a burst that does not wait');

  // A target's verdict follows from the figures of this run: pass or miss where they show it, never a pass on less
  // (the judging itself, fed pairs that must pass and must miss, is test/targets.test.ts).
  const targets = results.targets ?? [];
  for (const target of targets) {
    const n = Number(/N = (\d+)/.exec(target.figure)?.[1]);
    let verdict: string;
    if (/D \+ intake \+ output/.test(target.figure)) {
      const gap = Math.abs(find(`async-suite-${n}`).totalMs / results.accounts[`async-suite-${n}`]!.accountedMs - 1);
      verdict = gap <= 0.05 ? 'pass' : 'miss';
    } else if (/÷ reference/.test(target.figure)) {
      const paired = results.pairedRatios[`${/async/.test(target.figure) ? 'async' : 'trivial'}-suite-${n}`]!;
      verdict =
        paired.coverage < 0.9 ? 'inconclusive' : paired.high <= 1.05 ? 'pass' : paired.low > 1.05 ? 'miss' : 'inconclusive';
    } else {
      const sync = find('sync-suite-100');
      verdict = sync.totalMs <= sync.predictedMs! + 25 * find('trivial-suite-100').totalMs && sync.errors === 0 ? 'pass' : 'miss';
    }
    assert.equal(target.verdict, verdict, `${target.figure}: ${target.measured} (${target.target})`);
  }
  assert.ok(targets.some((x) => /D \+ intake \+ output/.test(x.figure)) && targets.some((x) => /^sync/.test(x.figure)));
  assert.equal(results.perRequest.health100Ms, find('trivial-suite-100').totalMs);
  assert.ok(results.startup.poolWarmUpMs > 0 && results.startup.spawnToReadyMs > results.startup.poolWarmUpMs);
  for (const bytes of Object.values(results.memory)) assert.ok(bytes !== null && bytes > 10 * 2 ** 20);
});

test('fidelity refuses --client: it runs every client itself', () => {
  const run = runScript('fidelity.ts', ['--client', 'curl']);
  assert.equal(run.status, 2);
  assert.equal(run.stderr, 'fidelity.ts: it runs every client itself; --client does not apply.\n');
});
