/**
 * Shutdown as uvicorn does it, during a burst of 100 sync requests: stop accepting, answer or close every
 * in-flight request, destroy the pool, exit 0 within 5 s. A second signal exits at once.
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../scripts/lib/processes/start-server.ts';
import { fireBurst } from '../scripts/lib/client/burst.ts';
import { waitUntil } from '../scripts/lib/core/wait-until.ts';
import { DEFAULT_SETTINGS } from '../server/settings.ts';

const POOL = 10;
const DELAY = 3000;
const REQUESTS = 100;
// The server's default: how long in-flight requests may go on after a signal.
const GRACE_MS = DEFAULT_SETTINGS.shutdownGraceMs;

/** A server in the middle of a burst: every thread blocked, the rest of the requests queued. */
async function serverUnderBurst(t: { after: (fn: () => Promise<void>) => void }) {
  const server = await startServer({ poolSize: POOL, delayMs: DELAY });
  t.after(() => server.stop());
  const burst = fireBurst({ baseUrl: server.url, path: (i) => `/sync-test/${i}`, requests: REQUESTS, timeoutMs: 30_000 });
  await waitUntil(async () => {
    const stats = await server.stats();
    return stats.activeTasks === POOL && stats.queuedTasks === REQUESTS - POOL;
  }, 'the burst to fill the pool and its queue');
  return { server, burst };
}

function signalAndTime(server: RunningServer, ...signals: NodeJS.Signals[]) {
  const sent = performance.now();
  for (const signal of signals) process.kill(server.pid, signal);
  return server.exit.then((status) => ({ ...status, afterMs: performance.now() - sent }));
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} during a burst of ${REQUESTS} sync requests: every request answered or closed, exit 0 after the grace period`, async (t) => {
    const { server, burst } = await serverUnderBurst(t);
    const exit = await signalAndTime(server, signal);
    assert.deepEqual([exit.code, exit.signal], [0, null]);
    // It gave in-flight requests the grace period (a server that hangs instead fails on the test's deadline).
    assert.ok(exit.afterMs >= GRACE_MS * 0.9, `exited ${exit.afterMs.toFixed(0)} ms after ${signal}`);

    // Nobody is left waiting for a client timeout: each request got a status or saw its connection close.
    const result = await burst;
    const outcomes: Record<string, number> = {};
    for (const r of result.requests) outcomes[r.status ?? r.error!] = (outcomes[r.status ?? r.error!] ?? 0) + 1;
    assert.equal(outcomes.timeout, undefined, JSON.stringify(outcomes));
    for (const outcome of Object.keys(outcomes)) assert.ok(['200', '503', 'closed', 'ECONNRESET'].includes(outcome), outcome);
    // The tasks still blocked after the grace period were ended and answered 503, not dropped.
    assert.ok((outcomes['503'] ?? 0) >= REQUESTS - POOL, JSON.stringify(outcomes));
    t.diagnostic(`${signal}: exit 0 after ${exit.afterMs.toFixed(0)} ms; requests: ${JSON.stringify(outcomes)}`);
  });
}

test('a second signal exits at once, without waiting for the grace period', async (t) => {
  const { server, burst } = await serverUnderBurst(t);
  // Two different signals, so the kernel cannot merge them into one. Which one Node handles second is not
  // fixed, so the exit code is 128 + that one: 143 (SIGTERM) or 130 (SIGINT).
  const exit = await signalAndTime(server, 'SIGINT', 'SIGTERM');
  assert.equal(exit.signal, null);
  assert.ok(exit.code === 143 || exit.code === 130, `exit code ${exit.code}`);
  assert.ok(
    exit.afterMs < GRACE_MS,
    `exited ${exit.afterMs.toFixed(0)} ms after the second signal (the grace period is ${GRACE_MS} ms)`,
  );
  const result = await burst;
  assert.ok(
    result.requests.every((r) => r.error !== 'timeout'),
    'the connections closed with the process',
  );
  t.diagnostic(`second signal: exit ${exit.code} after ${exit.afterMs.toFixed(0)} ms`);
});
