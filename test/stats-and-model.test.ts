import { test } from 'node:test';
import assert from 'node:assert/strict';
import { percentile, summarize, median } from '../scripts/lib/stats.ts';
import { predictTotalMs, predictWaves, predictCpuTotalMs } from '../scripts/lib/model.ts';

test('percentile interpolates between the nearest ranks', () => {
  assert.equal(percentile([1, 2, 3, 4], 50), 2.5);
  assert.equal(percentile([10], 99), 10);
  assert.equal(percentile([1, 2, 3, 4, 5], 0), 1);
  assert.equal(percentile([1, 2, 3, 4, 5], 100), 5);
  assert.equal(percentile([0, 10], 90), 9);
  assert.ok(Number.isNaN(percentile([], 50)));
  assert.throws(() => percentile([1], 101), RangeError);
});

test('summarize sorts its input and reports min, p50, p90, p99, max, mean', () => {
  const s = summarize([5, 1, 4, 2, 3]);
  assert.deepEqual(s, { min: 1, p50: 3, p90: 4.6, p99: 4.96, max: 5, mean: 3 });
  assert.equal(median([3, 1, 2, 10]), 2.5);
});

test('the model: N requests on P threads take ceil(N / P) waves of D', () => {
  // The blog: 100 requests, FastAPI's 40 threads, 3 s → 40 + 40 + 20 → 9 s.
  assert.equal(predictTotalMs({ requests: 100, poolSize: 40, delayMs: 3000 }), 9000);
  assert.equal(predictWaves({ requests: 40, poolSize: 40, delayMs: 1 }), 1);
  assert.equal(predictWaves({ requests: 41, poolSize: 40, delayMs: 1 }), 2);
  assert.equal(predictWaves({ requests: 80, poolSize: 40, delayMs: 1 }), 2);
  assert.equal(predictWaves({ requests: 81, poolSize: 40, delayMs: 1 }), 3);
  // An awaited timer holds no thread: one wave however many requests.
  assert.equal(predictTotalMs({ requests: 10_000, poolSize: null, delayMs: 3000 }), 3000);
  // Blocking the event loop is a pool of one.
  assert.equal(predictTotalMs({ requests: 5, poolSize: 1, delayMs: 200 }), 1000);
  assert.equal(predictTotalMs({ requests: 0, poolSize: 40, delayMs: 3000 }), 0);
  assert.throws(() => predictWaves({ requests: 1, poolSize: 0, delayMs: 1 }), RangeError);
});

test('the CPU model: threads beyond the cores share them, so the speed-up is bounded by the cores', () => {
  const w = 100;
  // No more threads than cores: waves, like a sleep.
  assert.equal(predictCpuTotalMs({ requests: 4, poolSize: 2, cores: 2, workMs: w }), 200);
  assert.equal(predictCpuTotalMs({ requests: 5, poolSize: 1, cores: 2, workMs: w }), 500);
  assert.equal(predictCpuTotalMs({ requests: 1, poolSize: 40, cores: 2, workMs: w }), 100);
  // More threads than cores: time-sliced, all N end together at N · w / C.
  assert.equal(predictCpuTotalMs({ requests: 4, poolSize: 40, cores: 2, workMs: w }), 200);
  assert.equal(predictCpuTotalMs({ requests: 3, poolSize: 40, cores: 2, workMs: w }), 150);
  assert.equal(predictCpuTotalMs({ requests: 8, poolSize: 40, cores: 2, workMs: w }), 400);
  // Waves of P > C: each takes P · w / C; a last wave of r, max(1, r / C) · w.
  assert.equal(predictCpuTotalMs({ requests: 9, poolSize: 4, cores: 2, workMs: w }), 2 * 200 + 100);
  assert.throws(() => predictCpuTotalMs({ requests: 1, poolSize: 0, cores: 2, workMs: w }), RangeError);
});
