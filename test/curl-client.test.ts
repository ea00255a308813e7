/**
 * The blog's method as a burst client: real curl processes against the real server, a tiny burst.
 */
import { test, before, after } from './harness.ts';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startServer, type RunningServer } from '../scripts/lib/processes/start-server.ts';
import { fireBurst } from '../scripts/lib/client/burst.ts';
import { MAX_CURL_REQUESTS } from '../scripts/lib/client/curl-burst.ts';
import { UserError } from '../scripts/lib/core/outcomes.ts';

const DELAY = 200;
let server: RunningServer;

before(async () => {
  server = await startServer({ poolSize: 2, delayMs: DELAY });
});
after(() => server.stop());

test('--client curl: every request answered, a sub-ms total and a whole-second one', async () => {
  const burst = await fireBurst({
    baseUrl: server.url,
    path: (i) => `/asyncio-test/${i}`,
    requests: 6,
    timeoutMs: 10_000,
    client: 'curl',
  });
  assert.deepEqual(
    burst.requests.map((r) => [r.id, r.status]),
    [1, 2, 3, 4, 5, 6].map((id) => [id, 200]),
  );
  // Each curl waited the server's delay; the shell's total includes starting six processes on top.
  assert.ok(burst.totalMs >= DELAY * 0.95, `total ${burst.totalMs}`);
  for (const r of burst.requests)
    assert.ok(r.endMs - r.startMs >= DELAY * 0.9 && r.endMs <= burst.totalMs + 1, JSON.stringify(r));
  assert.ok(
    Number.isInteger(burst.wholeSeconds) && burst.wholeSeconds! >= 0 && burst.wholeSeconds! <= Math.ceil(burst.totalMs / 1000),
  );
  assert.equal(burst.connectMs, null, 'curl connects inside the total');
});

test('--client curl: statuses and connection errors are recorded per request, by kind', async () => {
  const sync = await fireBurst({
    baseUrl: server.url,
    path: (i) => (i === 2 ? '/sync-test/abc' : `/sync-test/${i}`),
    requests: 3,
    timeoutMs: 10_000,
    client: 'curl',
  });
  assert.deepEqual(
    sync.requests.map((r) => r.status),
    [200, 422, 200],
  );

  const gone = createServer();
  await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(gone.address() as { port: number }).port}`;
  await new Promise((resolve) => gone.close(resolve)); // nobody listens there now
  const refused = await fireBurst({ baseUrl: url, path: (i) => `/${i}`, requests: 2, timeoutMs: 5000, client: 'curl' });
  assert.deepEqual(
    refused.requests.map((r) => [r.status, r.error]),
    [
      [null, 'ECONNREFUSED'],
      [null, 'ECONNREFUSED'],
    ],
  );
});

test('--client curl refuses a burst it cannot fire honestly, with one sentence', async () => {
  await assert.rejects(
    fireBurst({
      baseUrl: server.url,
      path: (i) => `/asyncio-test/${i}`,
      requests: MAX_CURL_REQUESTS + 1,
      timeoutMs: 1000,
      client: 'curl',
    }),
    (error: unknown) => error instanceof UserError && /one process per request/.test(error.message),
  );
});
