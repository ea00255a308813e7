/**
 * server.ts on Node, Bun and Deno alike: the blog's two endpoints in the pool's waves, /stats naming the runtime and
 * its hidden pool, that pool's size as waves of FIFO readers (a blocking call that burns no CPU), FastAPI's answers to
 * bad input, SIGTERM (also with readers still blocked), and, on Bun and Deno, no orphan when the process that started
 * it is killed outright (Node's: orphans.test.ts). A runtime that cannot run here (npm skipped its package on another
 * platform) is skipped with the reason.
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { startServer } from '../scripts/lib/processes/start-server.ts';
import { findRuntime } from '../scripts/lib/processes/runtimes.ts';
import { fireBurst } from '../scripts/lib/client/burst.ts';
import { httpRequest } from '../scripts/lib/client/http-get.ts';
import { waveSizes } from '../scripts/lib/model/waves.ts';
import { waitUntil } from '../scripts/lib/core/wait-until.ts';
import { isRunning } from '../scripts/lib/processes/process-tree.ts';
import { FifoFolder, threadsWaitingForAWriter, type FifoRound } from '../scripts/lib/measure/hidden-pool.ts';
import { parentThatStarts } from './run-script.ts';

const POOL = 2;
const D = 300;
/** Every this long the test lets the blocked FIFO readers go. */
const FIFO_ROUND_MS = 200;

for (const runtime of ['node', 'bun', 'deno'] as const) {
  const found = findRuntime(runtime);
  const skip = { skip: 'missing' in found && `${runtime} cannot run here: ${found.missing}` };

  test(
    `${runtime}: both endpoints in the pool's waves, the hidden pool in waves of FIFO readers, FastAPI's answers, SIGTERM`,
    skip,
    async (t) => {
      // FIFOs for the largest hidden pool (Deno's 32) and two more: two waves on every runtime.
      const fifos = new FifoFolder(34);
      t.after(() => fifos.remove());
      const server = await startServer({ poolSize: POOL, delayMs: D, fifoDir: fifos.dir }, { runtime });
      t.after(() => server.stop());
      const stats = await server.stats();
      assert.deepEqual([stats.runtime, stats.runtimeVersion], [runtime, 'version' in found && found.version]);
      assert.equal(stats.threadsAlive, POOL, 'every pool thread warm at the ready line');

      // 5 sync requests on 2 threads: waves of 2, 2 and 1; 5 async ones: one wave.
      const sync = await fireBurst({ baseUrl: server.url, path: (i) => `/sync-test/${i}`, requests: 5, timeoutMs: 10_000 });
      const async = await fireBurst({ baseUrl: server.url, path: (i) => `/asyncio-test/${i}`, requests: 5, timeoutMs: 10_000 });
      for (const burst of [sync, async]) assert.ok(burst.requests.every((r) => r.status === 200));
      assert.deepEqual(waveSizes(sync.requests, D), [2, 2, 1], `sync ends at ${sync.requests.map((r) => r.endMs)}`);
      assert.deepEqual(waveSizes(async.requests, D), [5], `async ends at ${async.requests.map((r) => r.endMs)}`);

      // P + 2 opens of FIFOs nobody writes to: P threads blocked in open() (counted in /proc), let go P, then 2.
      const p = stats.hiddenPool.maxThreads;
      const rounds: FifoRound[] = [];
      let stopReleasing = () => {};
      await server.resetStats();
      const opens = await fireBurst({
        baseUrl: server.url,
        path: (i) => `/fifo-test/${i}`,
        requests: p + 2,
        timeoutMs: 20_000,
        onStarted: (_, at) => (stopReleasing = fifos.releaseEvery(server.pid, FIFO_ROUND_MS, rounds)(at)),
      }).finally(() => stopReleasing());
      assert.ok(opens.requests.every((r) => r.status === 200));
      const name = stats.hiddenPool.name;
      assert.deepEqual(rounds.map((r) => r.blocked).filter(Boolean), [p, 2], `${name}: threads blocked per round`);
      assert.deepEqual(
        waveSizes(opens.requests, FIFO_ROUND_MS),
        [p, 2],
        `${name}: ends at ${opens.requests.map((r) => r.endMs)}`,
      );

      for (const [method, path, status, body] of [
        ['GET', '/sync-test/abc', 422, /^\{"detail":\[\{"type":"int_parsing","loc":\["path","user_id"\],/],
        ['GET', '/nope', 404, /^\{"detail":"Not Found"\}$/],
        ['POST', '/sync-test/1', 405, /^\{"detail":"Method Not Allowed"\}$/],
      ] as const) {
        const answer = await httpRequest(`${server.url}${path}`, { method, timeoutMs: 5000 });
        assert.ok(!('error' in answer), `${method} ${path} answered`);
        assert.equal(answer.status, status, `${method} ${path}`);
        assert.match(answer.body, body, `${method} ${path}`);
      }

      // Readers blocked when it is told to stop: it lets them go itself, and exits 0.
      await server.resetStats(); // FIFOs 1 and 2 again, and nobody opens them for writing now
      const stuck = fireBurst({ baseUrl: server.url, path: (i) => `/fifo-test/${i}`, requests: 2, timeoutMs: 20_000 });
      await waitUntil(() => threadsWaitingForAWriter(server.pid) === 2, 'two readers blocked on their FIFOs', 10_000);
      await server.stop();
      assert.deepEqual(server.exited, { code: 0, signal: null }, 'SIGTERM: drained and exited 0, not killed');
      await stuck;
    },
  );

  if (runtime === 'node') continue; // orphans.test.ts
  test(`${runtime}: server.ts goes when the process that started it is killed outright`, skip, async (t) => {
    const { parent, pids } = await parentThatStarts(
      t,
      'pid',
      `import { startServer } from './scripts/lib/processes/start-server.ts';
       const server = await startServer({ poolSize: 1, delayMs: 100 }, { runtime: '${runtime}' });
       console.log('pid', server.pid);`,
    );
    parent.kill('SIGKILL');
    await waitUntil(() => !isRunning(pids[0]!), `the server on ${runtime} (${pids[0]}) to exit after its parent died`, 15_000);
  });
}
