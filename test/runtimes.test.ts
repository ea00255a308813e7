/**
 * server.ts on Bun and Deno, as on Node: the blog's two endpoints in the pool's waves, /stats naming the runtime,
 * FastAPI's answers to bad input, SIGTERM, and no orphan when the process that started it is killed outright. Node is
 * held to the same by server.test.ts, shutdown.test.ts and orphans.test.ts; a runtime that cannot run here (npm skipped
 * its package on another platform) is skipped with the reason.
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
import { parentThatStarts } from './run-script.ts';

const POOL = 2;
const D = 300;

for (const runtime of ['bun', 'deno'] as const) {
  const found = findRuntime(runtime);
  const skip = { skip: 'missing' in found && `${runtime} cannot run here: ${found.missing}` };

  test(
    `${runtime}: both endpoints in the pool's waves, /stats names the runtime, bad input answered as FastAPI does, SIGTERM stops it`,
    skip,
    async (t) => {
      const server = await startServer({ poolSize: POOL, delayMs: D }, { runtime });
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

      await server.stop();
      assert.deepEqual(server.exited, { code: 0, signal: null }, 'SIGTERM: drained and exited 0, not killed');
    },
  );

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
