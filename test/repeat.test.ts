/**
 * --repeat K, the shared flag: K measured bursts per measurement, their median as the total, all K kept.
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResultsFile } from '../scripts/lib/results/types.ts';
import { runScript, tempDir } from './run-script.ts';

test('--repeat 3 gives three totals per measurement, the median as totalMs, and the range in the table', async (t) => {
  const out = await tempDir(t);
  const run = runScript('async-vs-sync.ts', [
    '--quick',
    '--repeat',
    '3',
    '--requests',
    '6',
    '--pool',
    '2',
    '--delay-ms',
    '100',
    '--out',
    out,
  ]);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /median \(min–max\) of 3 bursts/);
  const results = JSON.parse(await readFile(join(out, 'async-vs-sync.json'), 'utf8')) as ResultsFile;
  assert.equal(results.params.repeat, 3);
  for (const m of results.measurements) {
    const { totalsMs, median, min, max } = m.repeats!;
    assert.equal(totalsMs.length, 3, m.label);
    assert.deepEqual(
      [min, median, max],
      [...totalsMs].sort((a, b) => a - b),
      m.label,
    );
    assert.equal(m.totalMs, median);
    assert.ok(run.stdout.includes(`(${min.toFixed(1)}–${max.toFixed(1)})`), `${m.label} range printed`);
    assert.equal(m.requests.length, 6, 'one burst of records, not three');
    // Every run's outcomes count: an error in any of the three would show here.
    assert.equal(m.ok + m.errors, 18, m.label);
    assert.equal(m.ok, 18, m.label);
    assert.deepEqual(
      m.repeats!.runs!.map((run) => [run.ok, run.errors]),
      [
        [6, 0],
        [6, 0],
        [6, 0],
      ],
      m.label,
    );
  }
});

test('--repeat and --client are checked like every other flag', () => {
  for (const [args, message] of [
    [['--repeat', '0'], 'async-vs-sync.ts: --repeat must be a whole number from 1 to 1000, got "0".\n'],
    [['--client', 'wget'], 'async-vs-sync.ts: --client must be one of raw, curl, got "wget".\n'],
  ] as const) {
    const run = runScript('async-vs-sync.ts', [...args]);
    assert.equal(run.status, 2, args.join(' '));
    assert.equal(run.stderr, message);
  }
});
