/**
 * Abandoned requests: when a client hangs up, its queued pool task is removed and its running task is ended
 * (tinypool AbortSignal from c.req.raw.signal), so 100 abandoned sync requests leave the pool idle within
 * a moment, not after ceil(N / P) · D. FastAPI cannot do this: its threads sleep on regardless.
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { startServer } from '../scripts/lib/processes/start-server.ts';
import { fireBurst } from '../scripts/lib/client/burst.ts';
import { waitUntil } from '../scripts/lib/core/wait-until.ts';
import { waveSizes } from '../scripts/lib/model/waves.ts';

const POOL = 10;
const DELAY = 3000;
const REQUESTS = 100;

test('100 sync requests abandoned mid-wait: queued tasks removed, running ones ended, pool idle before any task could have slept out', async (t) => {
  const server = await startServer({ poolSize: POOL, delayMs: DELAY });
  t.after(() => server.stop());

  // The client gives up on every request after 500 ms: the burst's deadline destroys all 100 sockets.
  const burst = await fireBurst({ baseUrl: server.url, path: (i) => `/sync-test/${i}`, requests: REQUESTS, timeoutMs: 500 });
  const hungUp = performance.now();
  assert.deepEqual(new Set(burst.requests.map((r) => r.error)), new Set(['timeout']));

  const idle = await waitUntil(async () => {
    const stats = await server.stats();
    return stats.activeTasks === 0 && stats.queuedTasks === 0 && stats;
  }, 'the pool to be idle');
  const drainMs = performance.now() - hungUp;
  assert.equal(idle.cancelled, REQUESTS, 'every task was cancelled: 10 running + 90 queued');
  assert.equal(idle.completed, 0, 'none slept its 3 s to the end: the pool was idle before any could have');
  t.diagnostic(
    `${REQUESTS} abandoned sync requests (P ${POOL}, D ${DELAY} ms): pool idle ${drainMs.toFixed(0)} ms after the hang-up`,
  );

  // The ended threads were replaced: the whole pool serves the next burst in one wave.
  const next = await fireBurst({ baseUrl: server.url, path: (i) => `/sync-test/${i}`, requests: POOL, timeoutMs: 3 * DELAY });
  assert.ok(next.requests.every((r) => r.status === 200));
  assert.deepEqual(
    waveSizes(next.requests, DELAY),
    [POOL],
    `the next ${POOL} requests, one wave: ends at ${next.requests.map((r) => r.endMs)}`,
  );
  assert.equal((await server.stats()).threadsAlive, POOL);
});
