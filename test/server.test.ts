/**
 * The real server as a child process, real sockets, real worker threads; short delays, wide margins.
 */
import { test, before, after } from './harness.ts';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../scripts/lib/processes/start-server.ts';
import { fireBurst } from '../scripts/lib/client/burst.ts';
import { waitUntil } from '../scripts/lib/core/wait-until.ts';
import { waveSizes } from '../scripts/lib/model/waves.ts';

const DELAY = 200;
const POOL = 4;
let server: RunningServer;

before(async () => {
  server = await startServer({ poolSize: POOL, delayMs: DELAY });
});
after(() => server.stop());

async function get(path: string, init?: RequestInit) {
  const response = await fetch(`${server.url}${path}`, init);
  return { status: response.status, headers: response.headers, body: (await response.json()) as unknown };
}

test('the ready line names the real port when started with port 0', () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(new URL(server.url).port, '0');
});

test('both endpoints answer the blog body after the delay', async () => {
  for (const path of ['/asyncio-test/42', '/sync-test/42']) {
    const began = performance.now();
    const { status, body } = await get(path);
    const took = performance.now() - began;
    assert.equal(status, 200, path);
    assert.deepEqual(body, { user: 42, status: 'done' }, path);
    assert.ok(took >= DELAY * 0.9, `${path} took ${took} ms`);
  }
  assert.deepEqual((await get('/sync-test/-7')).body, { user: -7, status: 'done' });
});

test('sync requests run in waves of the pool size: P = 4, N = 10 → 3 waves; async is one wave', async () => {
  const sync = await fireBurst({ baseUrl: server.url, path: (i) => `/sync-test/${i}`, requests: 10, timeoutMs: 10_000 });
  assert.ok(sync.requests.every((r) => r.status === 200));
  // ceil(10 / 4) = 3 waves of 200 ms, holding 4, 4 and 2 requests, each at least D after the one before.
  assert.deepEqual(waveSizes(sync.requests, DELAY), [4, 4, 2], `ends at ${sync.requests.map((r) => r.endMs)}`);
  assert.ok(sync.totalMs >= 3 * DELAY * 0.95, `sync total ${sync.totalMs}`);

  const asyncBurst = await fireBurst({ baseUrl: server.url, path: (i) => `/asyncio-test/${i}`, requests: 10, timeoutMs: 10_000 });
  assert.ok(asyncBurst.requests.every((r) => r.status === 200));
  assert.deepEqual(
    waveSizes(asyncBurst.requests, DELAY),
    [10],
    `async: one wave, ends at ${asyncBurst.requests.map((r) => r.endMs)}`,
  );
  assert.ok(asyncBurst.totalMs >= DELAY * 0.95, `async total ${asyncBurst.totalMs}`);
});

test('a non-integer user_id is a FastAPI-shaped 422', async () => {
  const { status, body } = await get('/sync-test/abc');
  assert.equal(status, 422);
  assert.deepEqual(body, {
    detail: [
      {
        type: 'int_parsing',
        loc: ['path', 'user_id'],
        msg: 'Input should be a valid integer, unable to parse string as an integer',
        input: 'abc',
      },
    ],
  });
  for (const id of ['1.5', '1e3', '0x10', '%20', '99999999999999999999']) {
    const answer = await get(`/asyncio-test/${id}`);
    assert.equal(answer.status, 422, id);
    assert.deepEqual((answer.body as { detail: { loc: string[] }[] }).detail[0]?.loc, ['path', 'user_id'], id);
  }
});

test('unknown paths are 404 and other methods 405, with FastAPI bodies', async () => {
  assert.deepEqual(await get('/nope').then((r) => [r.status, r.body]), [404, { detail: 'Not Found' }]);
  assert.deepEqual(await get('/sync-test/1/extra').then((r) => [r.status, r.body]), [404, { detail: 'Not Found' }]);
  assert.deepEqual(await get('/sync-test/').then((r) => [r.status, r.body]), [404, { detail: 'Not Found' }]);
  const wrong = await get('/sync-test/1', { method: 'POST' });
  assert.equal(wrong.status, 405);
  assert.deepEqual(wrong.body, { detail: 'Method Not Allowed' });
  assert.match(wrong.headers.get('allow') ?? '', /GET/);
  assert.equal((await get('/health', { method: 'DELETE' })).status, 405);
});

test('/health answers at once, even while every pool thread is busy', async () => {
  const busy = fireBurst({ baseUrl: server.url, path: (i) => `/sync-test/${i}`, requests: POOL * 2, timeoutMs: 10_000 });
  // Busy means busy: every thread blocked and the rest queued, seen by the server itself.
  await waitUntil(
    async () => {
      const stats = await server.stats();
      return stats.activeTasks === POOL && stats.queuedTasks === POOL;
    },
    'every pool thread to be busy',
    5000,
    5,
  );
  const { status, body } = await get('/health');
  const answered = performance.now();
  assert.equal(status, 200);
  assert.deepEqual(body, { status: 'ok' });
  const burst = await busy;
  const firstEnd = burst.startedAt + Math.min(...burst.requests.map((r) => r.endMs));
  assert.ok(answered < firstEnd, 'health was answered before any blocking task ended: it did not wait for the pool');
});

test('/stats reports the pool and the event loop, and can be reset', async () => {
  await server.resetStats();
  const during = fireBurst({ baseUrl: server.url, path: (i) => `/sync-test/${i}`, requests: POOL + 3, timeoutMs: 10_000 });
  // The first wave in flight: wait for the server to have taken all of it in, then read what it says.
  const busy = await waitUntil(
    async () => {
      const stats = await server.stats();
      return stats.activeTasks + stats.queuedTasks === POOL + 3 && stats;
    },
    'the burst to reach the pool',
    5000,
    5,
  );
  assert.equal(busy.poolSize, POOL);
  assert.equal(busy.threadsAlive, POOL);
  assert.equal(busy.activeTasks, POOL);
  assert.equal(busy.queuedTasks, 3);
  const burst = await during;
  const after = await server.stats();
  assert.equal(after.activeTasks, 0);
  assert.equal(after.queuedTasks, 0);
  assert.ok(after.completed >= busy.completed + POOL + 3);
  for (const key of ['min', 'p50', 'p99', 'max'] as const) assert.equal(typeof after.eventLoopDelayMs[key], 'number');
  assert.ok(after.eventLoopDelayMs.samples > 0, 'the loop-delay timer ticked during the burst');
  assert.equal(after.arrivals.count, POOL + 3, 'every request of the burst arrived in this window');
  // The pool kept the event loop free: it was never late by anything like one of the blocking tasks it served.
  const shortest = Math.min(...burst.requests.map((r) => r.endMs - r.startMs));
  assert.ok(
    after.eventLoopDelayMs.max < shortest / 2,
    `event loop max delay ${after.eventLoopDelayMs.max} ms, the shortest request ${shortest} ms`,
  );
  assert.ok(after.rssBytes > 10e6 && after.uptimeMs > 0);
  const closed = await server.resetStats();
  assert.ok(closed.windowMs >= after.windowMs);
  assert.ok((await server.stats()).windowMs < closed.windowMs);
});

test('SIGTERM: the server exits 0 by itself and leaves no thread behind', async () => {
  const own = await startServer({ poolSize: 2, delayMs: 50 });
  // stop() sends SIGTERM and would SIGKILL after 10 s: a server that hung would show the signal, not code 0.
  await own.stop(10_000);
  assert.deepEqual(own.exited, { code: 0, signal: null });
  assert.throws(() => process.kill(own.pid, 0), /ESRCH/);
});
