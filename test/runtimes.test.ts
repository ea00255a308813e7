/**
 * server.ts on Node, Bun and Deno alike: /stats naming the runtime and its version, every pool thread warm at the ready
 * line, FastAPI's answers to bad input, SIGTERM with FIFO readers still blocked, and, on Bun and Deno, no orphan when
 * the process that started it is killed outright (Node's: orphans.test.ts). The blog's endpoints in the pool's waves
 * and the hidden pool in waves of FIFO opens, counted in /proc, are checked on every runtime by the runtimes
 * experiment's --quick run in run-all's test (test/scripts.test.ts), not fired twice. A runtime that cannot run here
 * (npm skipped its package on another platform) is skipped with the reason.
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { startServer } from '../scripts/lib/processes/start-server.ts';
import { findRuntime } from '../scripts/lib/processes/runtimes.ts';
import { fireBurst } from '../scripts/lib/client/burst.ts';
import { httpRequest } from '../scripts/lib/client/http-get.ts';
import { waitUntil } from '../scripts/lib/core/wait-until.ts';
import { isRunning } from '../scripts/lib/processes/process-tree.ts';
import { FifoFolder, threadsWaitingForAWriter } from '../scripts/lib/measure/hidden-pool.ts';
import { parentThatStarts } from './run-script.ts';

const POOL = 2;
const D = 300;

for (const runtime of ['node', 'bun', 'deno'] as const) {
  const found = findRuntime(runtime);
  const skip = { skip: 'missing' in found && `${runtime} cannot run here: ${found.missing}` };

  test(
    `${runtime}: /stats names it, every pool thread warm, FastAPI's answers, SIGTERM with readers blocked`,
    skip,
    async (t) => {
      const fifos = new FifoFolder(2);
      t.after(() => fifos.remove());
      const server = await startServer({ poolSize: POOL, delayMs: D, fifoDir: fifos.dir }, { runtime });
      t.after(() => server.stop());
      const stats = await server.stats();
      assert.deepEqual([stats.runtime, stats.runtimeVersion], [runtime, 'version' in found && found.version]);
      assert.equal(stats.threadsAlive, POOL, 'every pool thread warm at the ready line');

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
