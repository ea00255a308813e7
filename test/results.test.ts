import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatJson, toMeasurement, writeResults, describeEnvironment } from '../scripts/lib/results.ts';

test('formatJson is valid JSON and keeps flat records on one line', () => {
  const value = { a: [{ id: 1, startMs: 0.5, endMs: 2, status: 200 }, { id: 2, startMs: 1, endMs: 3, status: null }], b: {}, c: [], d: 'x' };
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
  assert.deepEqual(Object.keys(written.environment.packages).sort(), ['@hono/node-server', 'hono', 'tinypool', 'tsx']);
  assert.deepEqual(await readdir(dir), ['demo.json']);
  assert.equal(describeEnvironment().node, process.version);
});
