/**
 * Copy-paste experiments: scripts/_template.ts copied under a new name runs as its own
 * experiment with no edit, and run-all picks the copy up (but not the template). Done in a temporary copy of
 * the project, exactly as a user would in theirs.
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResultsFile } from '../scripts/lib/results/types.ts';
import { ROOT, projectWith } from './run-script.ts';

test('cp scripts/_template.ts scripts/mine.ts && npx tsx scripts/mine.ts --quick: mine.json, and run-all runs it', async (t) => {
  const project = await projectWith(t, {});
  await copyFile(join(ROOT, 'scripts', '_template.ts'), join(project, 'scripts', '_template.ts'));
  await copyFile(join(project, 'scripts', '_template.ts'), join(project, 'scripts', 'mine.ts'));
  const run = (script: string, args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(project, 'scripts', script), ...args], {
      cwd: project,
      encoding: 'utf8',
      timeout: 60_000,
    });

  const out = join(project, 'out');
  const mine = run('mine.ts', ['--quick', '--out', out]);
  assert.equal(mine.status, 0, mine.stderr);
  assert.match(mine.stdout, /^mine · 20 requests of 200 ms/m);
  const results = JSON.parse(await readFile(join(out, 'mine.json'), 'utf8')) as ResultsFile;
  assert.equal(results.experiment, 'mine');
  assert.match(String(results.whatItShows), /^N requests fired at once at the async endpoint/);
  assert.deepEqual(results.params, { requests: 20, delayMs: 200, quick: true, repeat: 1, client: 'raw', runtime: 'node' });
  const [m] = results.measurements;
  assert.equal(m?.ok, 20);
  assert.equal(m.predictedMs, 200);
  assert.deepEqual(results.charts, { timelines: { async: 'mine-async.svg' } });
  assert.match(await readFile(join(out, 'mine-async.svg'), 'utf8'), /^<svg /);

  const all = run('run-all.ts', ['--quick', '--quiet', '--out', join(project, 'all')]);
  assert.equal(all.status, 0, all.stderr);
  const summary = JSON.parse(await readFile(join(project, 'all', 'summary.json'), 'utf8')) as {
    experiments: { experiment: string; status: string }[];
  };
  assert.deepEqual(
    summary.experiments.map((e) => [e.experiment, e.status]),
    [['mine', 'ok']],
    'the copy runs; the template does not',
  );
  assert.match(await readFile(join(project, 'all', 'REPORT.md'), 'utf8'), /## mine\n\nN requests fired at once/);
});
