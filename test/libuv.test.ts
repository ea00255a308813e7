/**
 * libuv's threadpool, from outside: the server started with UV_THREADPOOL_SIZE in its environment reports it and
 * runs async hashes that many at a time; a file read waits behind a dozen async hashes, and not behind the same
 * hashes run in tinypool. Everything is read from the order and the grouping of the completions, and the one time
 * compared with is the burst's own earliest answer (one hash, or one wave of them): it holds on a machine of any
 * speed, with any cores. Which threads did the hashes is read from each thread's own CPU time (Linux's /proc).
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../scripts/lib/processes/start-server.ts';
import { fireBurst } from '../scripts/lib/client/burst.ts';
import { calibrate } from '../scripts/lib/measure/calibrate.ts';
import { waitUntil } from '../scripts/lib/core/wait-until.ts';
import { waveSizes } from '../scripts/lib/model/waves.ts';
import { threadCpuMs } from '../scripts/lib/processes/process-tree.ts';
import { hashSync } from '../server/pool-tasks.js';

// About 150 ms of work per hash: only how much work a request is. Long enough that a CPU quota's time slices
// (100 ms periods) cannot split a pair of hashes that share the cores into two waves.
const { iterations } = calibrate(150, hashSync);

const serverWith = async (t: { after: (fn: () => unknown) => void }, threadpool: string | undefined, pool = 2) => {
  const server = await startServer(
    { poolSize: pool, delayMs: 0, hashIterations: iterations },
    { env: { UV_THREADPOOL_SIZE: threadpool } },
  );
  t.after(() => server.stop());
  return server;
};
const hashes = (server: RunningServer, path: string, n: number) =>
  fireBurst({ baseUrl: server.url, path: (i) => `${path}/${i}`, requests: n, timeoutMs: 60_000 });

test('UV_THREADPOOL_SIZE=1 runs 6 async hashes one at a time; with 2 threads, two at a time', async (t) => {
  for (const size of [1, 2]) {
    const server = await serverWith(t, String(size));
    assert.equal((await server.stats()).libuvThreadpoolSize, size, 'the server reports what it got');
    await hashes(server, '/hash-test', 2); // warm
    const before = threadCpuMs(server.pid);
    const burst = await hashes(server, '/hash-test', 6);
    const after = threadCpuMs(server.pid);
    assert.ok(burst.requests.every((r) => r.status === 200));
    // The first answer is one hash's time. Each thread takes the next hash as it is free, and a thread's own hashes
    // end a whole hash apart, so no wave (ends within half a hash of each other) can hold more than the threads.
    const first = Math.min(...burst.requests.map((r) => r.endMs));
    const waves = waveSizes(burst.requests, first);
    const ends = `ends at ${burst.requests.map((r) => r.endMs.toFixed(0))} ms`;
    if (size === 1) assert.deepEqual(waves, [1, 1, 1, 1, 1, 1], `one thread: ${ends}`);
    else
      assert.ok(
        waves.every((n) => n <= 2),
        `two threads, waves ${waves}: ${ends}`,
      );
    // Who did the hashes, from each thread's own CPU time (Linux's /proc): the threads that each did at least a
    // twelfth of the burst's CPU work, half a hash's worth. Not the times alone: on two cores two threads save a hash's
    // time, but under a CPU quota of one core they share it, and their ends showed it one of three ways, or none
    // clearly (under half this machine's CPU: ends at 183, 290, 377, 566, 654, 740 ms for hashes of 125).
    if (before && after) {
      const gained = [...after].map(([tid, ms]) => ms - (before.get(tid) ?? 0));
      const burstCpu = gained.reduce((sum, ms) => sum + ms, 0);
      const hashers = gained.filter((ms) => ms >= burstCpu / 12).length;
      assert.equal(
        hashers,
        size,
        `threads with half a hash's worth of the burst's ${burstCpu.toFixed(0)} ms of CPU: ${gained.filter((ms) => ms >= 1).map((ms) => ms.toFixed(0))}`,
      );
    } else t.diagnostic('no /proc here: which threads did the hashes is not checked');
    t.diagnostic(
      `UV_THREADPOOL_SIZE=${size}: 6 hashes in ${burst.totalMs.toFixed(0)} ms, waves ${waves.join(', ')}, the first after ${first.toFixed(0)} ms`,
    );
    await server.stop();
  }
});

test('unset, libuv has 4 threads; a file read sent behind a dozen async hashes waits for hashes to end, behind pooled ones it does not', async (t) => {
  const server = await serverWith(t, undefined);
  assert.equal((await server.stats()).libuvThreadpoolSize, 4);
  assert.equal((await hashes(server, '/file-test', 1)).requests[0]?.status, 200);

  // Once the server has all twelve hashes in hand, one file read: it queues behind them in libuv's pool.
  await server.resetStats();
  const busy = hashes(server, '/hash-test', 12);
  await waitUntil(async () => (await server.stats()).arrivals.count >= 12, 'the server to take in 12 hashes', 30_000, 2);
  const sent = performance.now();
  const read = await hashes(server, '/file-test', 1);
  const readEnd = performance.now();
  const asyncHashes = await busy;
  assert.equal(read.requests[0]?.status, 200);
  assert.ok(asyncHashes.requests.every((r) => r.status === 200));
  // On the one clock both bursts share: the read was answered only after hashes had ended.
  const hashEnds = asyncHashes.requests.map((r) => asyncHashes.startedAt + r.endMs);
  const endedBefore = hashEnds.filter((end) => end < readEnd).length;
  assert.ok(
    endedBefore >= 1,
    `the read (sent ${(sent - asyncHashes.startedAt).toFixed(0)} ms into the hashes) ended before any of them`,
  );

  // The same dozen hashes in tinypool: libuv's threads are free, the read is answered before any hash ends.
  const pooled = hashes(server, '/hash-pool-test', 12);
  await waitUntil(async () => (await server.stats()).activeTasks >= 2, 'two pooled hashes to run', 30_000, 2);
  const free = await hashes(server, '/file-test', 1);
  const freeEnd = performance.now();
  const inPool = await pooled;
  assert.equal(free.requests[0]?.status, 200);
  assert.ok(inPool.requests.every((r) => r.status === 200));
  const firstPooledEnd = Math.min(...inPool.requests.map((r) => inPool.startedAt + r.endMs));
  assert.ok(
    freeEnd < firstPooledEnd,
    `beside pooled hashes the read ended ${(freeEnd - firstPooledEnd).toFixed(0)} ms after the first hash`,
  );
  t.diagnostic(`a read behind 12 async hashes ended after ${endedBefore} of them; behind pooled hashes after none`);
});
