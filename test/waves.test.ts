/**
 * Reading waves from completions: the arithmetic the tests and find-pool count waves with.
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { waveSizes, wavesOf } from '../scripts/lib/waves.ts';

const ends = (...ms: number[]) => ms.map((endMs) => ({ endMs }));

test('a pool of 4 serving 10 requests of 200 ms: waves of 4, 4 and 2, in any order of the records', () => {
  const burst = ends(601, 203, 201, 402, 205, 404, 202, 401, 603, 403);
  assert.deepEqual(waveSizes(burst, 200), [4, 4, 2]);
  assert.deepEqual(wavesOf(burst, 200)[1], { size: 4, firstEndMs: 401, lastEndMs: 404 });
});

test('a wave is what ends within half a D of its earliest end; what ends later opens the next one', () => {
  assert.deepEqual(waveSizes(ends(100, 149.9, 150, 199.9), 100), [2, 2]);
  // One wave however spread its ends are, as long as each is within half a D of the first.
  assert.deepEqual(waveSizes(ends(3000, 3400, 3900, 4499), 3000), [4]);
  // A pool of one: every request a wave of its own.
  assert.deepEqual(waveSizes(ends(60, 120, 180, 240), 60), [1, 1, 1, 1]);
  assert.deepEqual(waveSizes([], 100), []);
  assert.throws(() => wavesOf(ends(1), 0), RangeError);
});
