/**
 * Reading waves from completions: the arithmetic the tests and find-pool count waves with; and find-pool's reading of
 * work that shares the cores, from the same completions.
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { waveSizes, wavesOf } from '../scripts/lib/model/waves.ts';
import { readStep, type Purpose } from '../scripts/lib/find-pool/step.ts';
import { sharesCores } from '../scripts/lib/find-pool/signals.ts';

const ends = (...ms: number[]) => ms.map((endMs) => ({ endMs }));

test('a pool of 4 serving 10 requests of 200 ms: waves of 4, 4 and 2, in any order of the records', () => {
  const burst = ends(601, 203, 201, 402, 205, 404, 202, 401, 603, 403);
  assert.deepEqual(waveSizes(burst, 200), [4, 4, 2]);
  assert.deepEqual(wavesOf(burst, 200)[1], { size: 4, firstEndMs: 401, lastEndMs: 404 });
});

test('a wave is what ends within half a D of its earliest end; what ends later, after a gap, opens the next one', () => {
  assert.deepEqual(waveSizes(ends(100, 124.9, 150, 199.9), 100), [2, 2]);
  // One wave however spread its ends are, as long as each is within half a D of the first.
  assert.deepEqual(waveSizes(ends(3000, 3400, 3900, 4499), 3000), [4]);
  // A pool of one: every request a wave of its own.
  assert.deepEqual(waveSizes(ends(60, 120, 180, 240), 60), [1, 1, 1, 1]);
  assert.deepEqual(waveSizes([], 100), []);
  assert.throws(() => wavesOf(ends(1), 0), RangeError);
});

test('completions that keep coming without a gap are one wave: a server slow to take the burst in, not a pool', () => {
  // 256 awaited timers of 300 ms on a server that took 200 ms to read them all: ends every ~0.8 ms from 309 to 509.
  const slowIntake = ends(...Array.from({ length: 256 }, (_, i) => 309 + (i * 200) / 255));
  assert.deepEqual(waveSizes(slowIntake, 309), [256]);
  // The same slow intake with a pool of 40 behind it: the second wave waited for places, and comes after a gap.
  const pooled = ends(...Array.from({ length: 40 }, (_, i) => 309 + i * 4), ...Array.from({ length: 24 }, (_, i) => 618 + i * 4));
  assert.deepEqual(waveSizes(pooled, 309), [40, 24]);
  // A gap alone is not a wave: within half a D of the wave's first end, it is the same wave.
  assert.deepEqual(waveSizes(ends(100, 140), 100), [2]);
});

test('sharing the cores is read from bursts of two or more: a late request alone is a cold or stalled server', () => {
  const D = 200;
  /** A burst whose answers end at `ends` ms, each request on the wire from 0. */
  const burst = (ends: number[], purpose: Purpose = 'doubling') =>
    readStep(
      ends.length,
      purpose,
      {
        startedAt: 0,
        totalMs: Math.max(...ends),
        connectMs: 0,
        requests: ends.map((endMs, id) => ({ id, startMs: 0, endMs, status: 200 })),
      },
      D,
    );
  const onTime = [burst([D], 'first'), burst([D, D + 5]), burst([D + 2, D + 4, 2 * D])];
  assert.equal(sharesCores({ steps: onTime, delayMs: D }), false, 'every burst answered first at D');
  // The first request alone, at 1.5 · D (a cold server): no sharing; a burst of 4 whose first answer is that late: sharing.
  assert.equal(sharesCores({ steps: [burst([1.5 * D], 'first'), ...onTime.slice(1)], delayMs: D }), false);
  assert.equal(sharesCores({ steps: [...onTime, burst([1.3 * D, 1.9 * D, 2 * D, 2 * D])], delayMs: D }), true);
  // Nor a request that only waited for the server to settle after a hang-up.
  assert.equal(sharesCores({ steps: [...onTime, burst([3 * D], 'settle')], delayMs: D }), false);
});
