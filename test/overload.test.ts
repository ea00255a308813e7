/**
 * Overload, as uvicorn's --limit-concurrency answers it: the pool's queue is bounded; beyond it the server
 * answers 503 with Retry-After at once, keeps serving everything else, and its memory stays put during a
 * burst of ten times the queue.
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { startServer } from '../scripts/lib/processes/start-server.ts';
import { fireBurst } from '../scripts/lib/client/burst.ts';
import { waitUntil } from '../scripts/lib/core/wait-until.ts';
import { waveSizes } from '../scripts/lib/model/waves.ts';

const POOL = 20;
const QUEUE = 40;
const DELAY = 1000;
const REQUESTS = 10 * QUEUE;

test(`a burst of 10× the queue: P + queue served, the rest 503 + Retry-After at once, memory bounded`, async (t) => {
  const server = await startServer({ poolSize: POOL, delayMs: DELAY, queueLimit: QUEUE });
  t.after(() => server.stop());
  const before = await server.resetStats();

  const burst = fireBurst({ baseUrl: server.url, path: (i) => `/sync-test/${i}`, requests: REQUESTS, timeoutMs: 20_000 });

  // While the queue is full: one more blocking request is refused with a hint, /health is not delayed.
  const full = await waitUntil(async () => {
    const stats = await server.stats();
    return stats.queuedTasks === QUEUE && stats;
  }, 'the queue to fill');
  assert.equal(full.activeTasks, POOL);
  const refused = await fetch(`${server.url}/sync-test/0`);
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '1');
  assert.deepEqual(await refused.json(), { detail: 'Service Unavailable: the pool queue is full' });
  assert.equal((await fetch(`${server.url}/health`)).status, 200);
  const healthAnswered = performance.now();

  const result = await burst;
  const served = result.requests.filter((r) => r.status === 200);
  const rejected = result.requests.filter((r) => r.status === 503);
  assert.equal(served.length, POOL + QUEUE);
  assert.equal(rejected.length, REQUESTS - POOL - QUEUE);
  // "At once": every 503 arrived before the first blocking task had even finished.
  const slowest503 = Math.max(...rejected.map((r) => r.endMs));
  const firstServed = Math.min(...served.map((r) => r.endMs));
  assert.ok(slowest503 < firstServed, `the slowest 503 took ${slowest503} ms, the first answer ${firstServed} ms`);
  assert.ok(
    healthAnswered < result.startedAt + firstServed,
    '/health answered while the pool was saturated, before any blocking task ended',
  );
  // The accepted ones ran as the model says: ceil((P + queue) / P) waves.
  assert.deepEqual(waveSizes(served, DELAY), [POOL, POOL, QUEUE - POOL], `ends at ${served.map((r) => r.endMs)}`);

  const after = await server.stats();
  assert.equal(after.rejected, REQUESTS - POOL - QUEUE + 1);
  assert.deepEqual([after.activeTasks, after.queuedTasks, after.threadsAlive], [0, 0, POOL]);
  const grownMb = (after.rssBytes - before.rssBytes) / 2 ** 20;
  assert.ok(grownMb < 64, `RSS grew by ${grownMb.toFixed(1)} MB`);
  t.diagnostic(
    `${REQUESTS} requests, P ${POOL}, queue ${QUEUE}: ${served.length} × 200, ${rejected.length} × 503 (slowest ${slowest503.toFixed(0)} ms); ` +
      `RSS ${(before.rssBytes / 2 ** 20).toFixed(0)} → ${(after.rssBytes / 2 ** 20).toFixed(0)} MB`,
  );
});
