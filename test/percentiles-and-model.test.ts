import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { percentile, summarize, median, medianInterval } from '../scripts/lib/model/percentiles.ts';
import {
  predictTotalMs,
  predictWaves,
  predictCpuTotalMs,
  predictCpuWaveMs,
  idealCores,
  predictQueuedPool,
  predictLimitedPool,
  predictChain,
} from '../scripts/lib/model/model.ts';
import { describeCores, modelAtBurstCpu, withinBudget, workMoved } from '../scripts/lib/measure/calibrate.ts';

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

test("the median's interval: order statistics by the binomial, whole range where the sample is too small for 95 %", () => {
  // 21 values: the 6th and the 16th smallest (P(binomial(21, ½) < 6) = 1.3 %, < 7 would be 3.9 %).
  const shuffled = Array.from({ length: 21 }, (_, i) => ((i * 8) % 21) + 1);
  assert.deepEqual(medianInterval(shuffled), { median: 11, low: 6, high: 16, coverage: 0.973 });
  // 5 values: nothing narrower than the range holds 95 %; the range holds 1 − 2/32.
  assert.deepEqual(medianInterval([5, 1, 4, 2, 3]), { median: 3, low: 1, high: 5, coverage: 0.938 });
  assert.equal(medianInterval([]), null);
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
  const two = idealCores(2, w);
  const cpu = (requests: number, poolSize: number, coreMs = two) => predictCpuTotalMs({ requests, poolSize, workMs: w, coreMs });
  // Fewer threads than cores: waves of w, like a sleep. As many: each core takes the next request.
  assert.equal(cpu(5, 1), 500);
  assert.equal(cpu(4, 2), 200);
  assert.equal(cpu(1, 40), 100);
  // More threads than cores: time-sliced, all N end together at N · w / C.
  assert.equal(cpu(4, 40), 200);
  assert.equal(cpu(3, 40), 150);
  assert.equal(cpu(8, 40), 400);
  // Waves of P > C: each takes P · w / C; a last wave of fewer requests than cores, w.
  assert.equal(cpu(9, 4), 2 * 200 + 100);
  assert.throws(() => cpu(1, 0), RangeError);
});

test('the CPU model on cores that are not equal: a slower core serves fewer, and sets the time of a wave of C', () => {
  // One core does a request in 200 ms while the other is busy too, the other in 300 ms (a neighbour on it).
  const uneven = [200, 300];
  const cpu = (requests: number, poolSize: number) => predictCpuTotalMs({ requests, poolSize, workMs: 200, coreMs: uneven });
  assert.equal(cpu(2, 2), 300);
  // Two threads, eight hashes: the fast core ends one at 200, 400, 600, 800 and 1000, the slow at 300, 600 and 900.
  assert.equal(cpu(8, 2), 1000);
  // Time-sliced: 6 requests of work shared by both cores, 6 / (1/200 + 1/300) = 720 ms.
  assert.equal(Math.round(cpu(6, 40)), 720);
  assert.equal(predictCpuWaveMs({ requests: 2, poolSize: 40, workMs: 200, coreMs: uneven }), 300);
  assert.equal(predictCpuWaveMs({ requests: 1, poolSize: 40, workMs: 200, coreMs: uneven }), 200);
});

test('the cores never do more side by side than the CPU quota allows: a short pair can outrun it, a burst cannot', () => {
  // Under a quota of one core's worth on 2 cores, two hashes of 196 ms at once took 331 and 400 ms: 1.08 side by side.
  const quota = withinBudget([331, 400], 196, 1);
  assert.equal(quota.speedUp, 1);
  assert.ok(quota.coreMs[0]! < quota.coreMs[1]!, 'fastest first, as measured');
  assert.deepEqual(quota.measured, { coreMs: [331, 400], speedUp: 1.082, budget: 1 }, 'what was timed, kept');
  assert.equal(
    describeCores(quota),
    "2 at once took 331, 400 ms, 1.08 side by side; held to the CPU budget, 1 core's worth: 1.00",
  );
  // Eight at once on eight threads are then eight hashes' work on one core's worth, not eight ÷ 1.08.
  assert.equal(Math.round(predictCpuTotalMs({ requests: 8, poolSize: 8, workMs: 196, coreMs: quota.coreMs })), 8 * 196);
  // Within the budget nothing changes: two free cores, one of them slower.
  assert.deepEqual(withinBudget([200, 300], 200, 2), { coreMs: [200, 300], speedUp: 1.667 });
  // Noise in w cannot make two cores more than two.
  assert.equal(withinBudget([190, 195], 200, 2).speedUp, 2);
});

test('a burst whose work cost another CPU time than when w was timed is named, beyond a tenth either way', () => {
  const cpu = (single: number, sustained: number | null, bursts: number[]) => ({
    single,
    sustained,
    burst: bursts.length ? median(bursts) : null,
    bursts,
  });
  // Back to back is w's own where there was one: 303 ms of CPU then, 196 in the bursts (libuv-pool, one thread).
  assert.deepEqual(workMoved(cpu(294, 303, [196, 195, 197])), { timedMs: 303, burstMs: 196, by: -0.353 });
  assert.deepEqual(workMoved(cpu(206, null, [242])), { timedMs: 206, burstMs: 242, by: 0.175 });
  assert.equal(workMoved(cpu(211, null, [226])), null, 'within a tenth: eight threads time-sliced cost 7 % more');
  assert.equal(workMoved(cpu(200, null, [])), null, 'no burst yet');
  assert.equal(workMoved(null), null, 'no /proc');
  // Where the cores were timed (as many threads as cores, or more), their CPU is what the model's times were timed at.
  const timedWithCores = { single: 159, sustained: null, cores: 207, burst: 240, bursts: [240] };
  assert.deepEqual(workMoved(timedWithCores), { timedMs: 207, burstMs: 240, by: 0.159 });
});

test("the model priced at the burst's CPU: every time in it scales with the CPU a hash cost, in the burst against at timing", () => {
  // Under half this machine's CPU: 8 hashes on one thread, 275 ms of CPU each back to back when w was timed, 211 in the
  // bursts; the model said 2200 ms, the bursts took 1573 (0.715 of it): at the bursts' CPU the model is 1688 ms (0.932).
  const oneThread = { single: 208, sustained: 275, cores: null, burst: 211, bursts: [213, 211, 210] };
  assert.equal(modelAtBurstCpu(2200, oneThread), 1688);
  // The same CPU then and in the burst: the model as it was.
  assert.equal(modelAtBurstCpu(800, { single: 200, sustained: null, cores: 200, burst: 200, bursts: [200] }), 800);
  // No burst's CPU (the trap's bursts, or no /proc): nothing to price it at.
  assert.equal(modelAtBurstCpu(800, { single: 200, sustained: null, burst: null, bursts: [] }), null);
  assert.equal(modelAtBurstCpu(800, null), null);
});

test('a bounded queue: beyond P + Q the server refuses, as long as the burst is in before the first wave ends', () => {
  // async-vs-sync --requests 10000 on 40 threads and a queue of 1000: 1040 served in 26 waves, 8960 refused.
  const burst = { requests: 10_000, poolSize: 40, queueLimit: 1000, delayMs: 3000 };
  assert.deepEqual(predictQueuedPool(burst), { served: 1040, refused: 8960, totalMs: 26 * 3000 });
  assert.deepEqual(predictQueuedPool(burst, 1077), { served: 1040, refused: 8960, totalMs: 26 * 3000 });
  // An intake as long as D: requests that ended freed places, and the model does not guess how many.
  const late = predictQueuedPool(burst, 3000);
  assert.deepEqual([late.refused, late.totalMs], [null, null]);
  assert.match(late.unpredictable!, /took 3000 ms to take the burst in/);
  // Within P + Q: nothing refused, whatever the intake.
  assert.deepEqual(predictQueuedPool({ ...burst, requests: 100 }, 5000), { served: 100, refused: 0, totalMs: 9000 });
});

test('a pool beyond the database limit: L served in one wave, the rest refused while refusing them fits in half a wave', () => {
  const burst = { requests: 146, poolSize: 146, connectionLimit: 97, delayMs: 3000 };
  assert.deepEqual(predictLimitedPool({ ...burst, refusalMs: 14 }), { served: 97, refused: 49, totalMs: 3000 });
  assert.deepEqual(predictLimitedPool({ ...burst, poolSize: 50, refusalMs: 14 }), { served: 146, refused: 0, totalMs: 9000 });
  // 49 refusals of 40 ms each is 1960 ms: past half of D, some waiting requests get a freed connection instead.
  const slow = predictLimitedPool({ ...burst, refusalMs: 40 });
  assert.deepEqual([slow.served, slow.refused, slow.totalMs], [97, null, null]);
  assert.match(slow.unpredictable!, /refusing 49 connections of 40 ms each takes about 1960 ms/);
});

test('a chain: K pools of P, a pooler of B in front, the database limit behind; the smallest pool sets the waves', () => {
  const D = 3000;
  const chain = (requests: number[], connections: number[], poolSize: number, poolerPoolSize: number | null) =>
    predictChain({ requests, connections, poolSize, poolerPoolSize, delayMs: D, refusalMs: 10 });
  // One process: the blog's model with the database pool's P.
  assert.deepEqual(chain([100], [10], 10, null), { served: 100, refused: 0, totalMs: 30_000, waves: Array(10).fill(10) });
  // K processes below the limit: K pools of P, each process its own waves.
  assert.deepEqual(chain([25, 25, 25, 25], [10, 10, 10, 10], 10, null).waves, [40, 40, 20]);
  assert.equal(chain([60, 40], [40, 40], 40, null).totalMs, 2 * D, 'the busier process sets the total');
  // Beyond the limit: every process serves from what it opened, and a short one refuses the rest of its share.
  assert.deepEqual(chain([25, 25, 25, 25], [40, 40, 17, 0], 40, null), { served: 67, refused: 33, totalMs: D, waves: [67] });
  assert.deepEqual(chain([25, 25, 25, 25], [40, 40, 10, 7], 40, null).refused, 15 + 18);
  // A pooler of 20 in front: it sets the waves, whatever K · P, with no refusal.
  assert.deepEqual(chain([25, 25, 25, 25], [40, 40, 40, 40], 40, 20).waves, [20, 20, 20, 20, 20]);
  assert.deepEqual(chain([50, 50], [10, 10], 10, 20).waves, [20, 20, 20, 20, 20]);
  // … unless a process's own pool is smaller: then that one sets them.
  assert.deepEqual(chain([100], [10], 10, 20).waves, Array(10).fill(10));
  // Not always ceil(N / B): a process whose connections wait in the pooler's queue sends nothing new.
  assert.deepEqual(chain([20, 10], [10, 10], 10, 15).waves, [15, 13, 2]);
  assert.equal(predictTotalMs({ requests: 30, poolSize: 15, delayMs: D }), 2 * D, 'where ceil(N / B) says two');
  // Refusals that take longer than half a wave: not predicted, and said why.
  const slow = predictChain({
    requests: [100],
    connections: [20],
    poolSize: 40,
    poolerPoolSize: null,
    delayMs: D,
    refusalMs: 40,
  });
  assert.equal(slow.refused, null);
  assert.match(slow.unpredictable!, /refusing 80 connections of 40 ms each/);
});
