/**
 * libuv's threadpool, from outside: the server started with UV_THREADPOOL_SIZE in its environment reports it
 * and runs async hashes in waves of it (bounded by the cores); a file read waits behind a dozen async hashes,
 * and not behind the same hashes run in tinypool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../scripts/lib/server-process.ts';
import { fireBurst } from '../scripts/lib/burst.ts';
import { calibrate } from '../scripts/lib/calibrate.ts';
import { hashSync } from '../server/pool-tasks.js';

// One hash of about 60 ms here, whatever the machine.
const hash = calibrate(60, hashSync);

const serverWith = async (t: { after: (fn: () => unknown) => void }, threadpool: string | undefined, pool = 2) => {
  const server = await startServer({ poolSize: pool, delayMs: 0, extraArgs: ['--hash-iterations', String(hash.iterations)], env: { UV_THREADPOOL_SIZE: threadpool } });
  t.after(() => server.stop());
  return server;
};
const hashes = (server: RunningServer, path: string, n: number) => fireBurst({ baseUrl: server.url, path: (i) => `${path}/${i}`, requests: n, timeoutMs: 20_000 });

test('UV_THREADPOOL_SIZE=1: 6 async hashes take about 6 hashes; with 2 threads about half that', async (t) => {
  const totals: Record<string, number> = {};
  for (const size of ['1', '2']) {
    const server = await serverWith(t, size);
    assert.equal((await server.stats()).libuvThreadpoolSize, Number(size), 'the server reports what it got');
    await hashes(server, '/hash-test', 2); // warm
    const burst = await hashes(server, '/hash-test', 6);
    assert.ok(burst.requests.every((r) => r.status === 200));
    totals[size] = burst.totalMs;
    await server.stop();
  }
  assert.ok(totals['1']! >= 5 * hash.ms, `one thread: ${totals['1']} ms for 6 hashes of ${hash.ms} ms`);
  assert.ok(totals['2']! < totals['1']! * 0.75, `two threads: ${totals['2']} ms, one thread: ${totals['1']} ms`);
  t.diagnostic(`6 hashes of ${hash.ms} ms: ${totals['1']!.toFixed(0)} ms on 1 libuv thread, ${totals['2']!.toFixed(0)} ms on 2`);
});

test('unset, libuv has 4 threads; a file read sent behind a dozen async hashes waits longer than one hash', async (t) => {
  const server = await serverWith(t, undefined);
  assert.equal((await server.stats()).libuvThreadpoolSize, 4);
  const idle = await hashes(server, '/file-test', 1);
  assert.equal(idle.requests[0]?.status, 200);

  await server.resetStats();
  const busy = hashes(server, '/hash-test', 12);
  // Once the server has all twelve in hand, one file read: it queues behind them in libuv's pool.
  while ((await server.stats()).arrivals.count < 12) await new Promise((resolve) => setTimeout(resolve, 2));
  const read = await hashes(server, '/file-test', 1);
  await busy;
  assert.equal(read.requests[0]?.status, 200);
  assert.ok(read.totalMs > hash.ms, `the read took ${read.totalMs} ms, one hash ${hash.ms} ms`);

  // The same dozen hashes in tinypool: libuv's threads are free, the read is not held up by a hash.
  const pooled = hashes(server, '/hash-pool-test', 12);
  while ((await server.stats()).activeTasks < 2) await new Promise((resolve) => setTimeout(resolve, 2));
  const free = await hashes(server, '/file-test', 1);
  assert.ok((await pooled).requests.every((r) => r.status === 200));
  assert.ok(free.totalMs < hash.ms, `beside pooled hashes the read took ${free.totalMs} ms`);
});
