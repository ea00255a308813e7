/**
 * Results are never half-written: an experiment that fails does not stop run-all from writing the others,
 * the summary and the report, and does not destroy the results of an earlier run. The failing experiment
 * lives in a temporary copy of scripts/, never in the real one.
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, projectWith } from './run-script.ts';

const BREAKS = `throw new Error('this experiment breaks on purpose');\n`;
const WORKS = `import { startScript } from './lib/main.ts';
import { writeResults } from './lib/results/file.ts';
const flags = startScript({ about: 'writes an empty result', defaultOut: 'results', numbers: {} });
await writeResults(flags.out, { experiment: 'works', params: {}, measurements: [] });
`;

// Fires at a path that does not exist: every answer is a 404 the experiment did not expect.
const GETS_ERRORS = `import { defineExperiment } from './lib/experiment.ts';
const experiment = defineExperiment({ about: 'fires at a path that does not exist', numbers: {} });
const server = await experiment.server({ poolSize: 1, delayMs: 0 });
await experiment.measure(server, { label: 'nope', endpoint: '/nope', poolSize: null, requests: 3, delayMs: 0, warmUp: false });
await experiment.finish();
`;

test('one experiment fails: run-all still writes the others, summary.json and REPORT.md, and exits 1', async (t) => {
  const project = await projectWith(t, { breaks: BREAKS, works: WORKS });

  // An earlier, good run of the experiment that now breaks.
  const out = join(project, 'out');
  await mkdir(out);
  const earlier = '{ "experiment": "breaks", "createdAt": "2020-01-01T00:00:00.000Z", "measurements": [] }\n';
  await writeFile(join(out, 'breaks.json'), earlier);

  const run = spawnSync(process.execPath, ['--import', 'tsx', join(project, 'scripts', 'run-all.ts'), '--quiet', '--out', out], {
    cwd: project,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /run-all: 1 of 2 experiments failed: breaks\.\n$/);

  const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as {
    experiments: { experiment: string; status: string }[];
  };
  assert.deepEqual(
    summary.experiments.map((e) => [e.experiment, e.status]),
    [
      ['breaks', 'failed'],
      ['works', 'ok'],
    ],
  );
  assert.equal(JSON.parse(await readFile(join(out, 'works.json'), 'utf8')).experiment, 'works');
  assert.equal(await readFile(join(out, 'breaks.json'), 'utf8'), earlier, 'the earlier results survive the failed run');
  assert.match(await readFile(join(out, 'REPORT.md'), 'utf8'), /## works/);
  assert.deepEqual(
    (await readdir(out)).sort(),
    ['REPORT.md', 'breaks.json', 'summary.json', 'works.json'],
    'no temporary files left',
  );
});

test('an experiment whose burst gets errors it did not expect is failed by run-all, with the reason, its results kept', async (t) => {
  const project = await projectWith(t, { 'gets-errors': GETS_ERRORS });
  const out = join(project, 'out');
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(project, 'scripts', 'run-all.ts'), '--quiet', '--out', out], {
    cwd: project,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /gets-errors: nope: 3 of 3 requests failed \(3 × HTTP 404\)\./);
  const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as {
    experiments: { experiment: string; status: string; reason: string }[];
  };
  assert.deepEqual(
    summary.experiments.map((e) => [e.experiment, e.status, e.reason]),
    [['gets-errors', 'failed', 'nope: 3 of 3 requests failed (3 × HTTP 404)']],
  );
  const results = JSON.parse(await readFile(join(out, 'gets-errors.json'), 'utf8'));
  assert.equal(results.measurements[0].statusCounts['404'], 3, 'the results stay on disk');
  assert.match(await readFile(join(out, 'REPORT.md'), 'utf8'), /\*\*Failed:\*\* nope: 3 of 3 requests failed/);
});

test('a results folder that cannot be written is refused before the run, not after it', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/async-vs-sync.ts', '--quick', '--out', 'package.json'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(run.status, 2);
  assert.match(run.stderr, /^async-vs-sync\.ts: --out package\.json: \S+package\.json is not a folder; pick another folder\.\n$/);
  assert.equal(run.stdout, '', 'no server was started, no burst fired');
});
