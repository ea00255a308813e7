/**
 * find-pool's search and verdict in the test's own process, without a server: every committed find-pool result
 * re-judged from its stored bursts (the search must ask for the same bursts in the same order, and reach the same
 * finding), and the pure parts on their own (the plan, the confirming bursts, the hints).
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runSearch, doublingPlan, checksFor } from '../scripts/lib/find-pool/search.ts';
import { judge, hintFor, hintForProcesses, type Finding } from '../scripts/lib/find-pool/verdict.ts';
import { recordedTargets, replayOf } from './find-pool-replay.ts';
import { modelSource, type ModelServer } from './pool-model.ts';

const ROOT = join(import.meta.dirname, '..');

/** Every committed find-pool results file: the self-check, server.ts as it starts, the outside servers. */
export const RECORDED = [
  'results/find-pool.json',
  'results/find-pool-server-40/find-pool.json',
  ...readdirSync(join(ROOT, 'results/outside')).map((server) => `results/outside/${server}/find-pool.json`),
];

/**
 * A finding as the script writes it, less what depends on when it ran (the wall clock) or how it was started. D is
 * compared to the µs the file's offsets keep: a request's own time is the difference of two offsets rounded each.
 */
function verdictOf(finding: Finding): Omit<Finding, 'elapsedMs' | 'configured' | 'cpuSignals'> {
  const { elapsedMs: _elapsed, configured: _configured, cpuSignals: _signals, ...verdict } = finding;
  return { ...verdict, delayMs: Math.round(finding.delayMs * 100) / 100 };
}

for (const path of RECORDED) {
  test(`${path}: every target's stored bursts, searched and judged again, give the committed finding`, async () => {
    for (const target of recordedTargets(join(ROOT, path))) {
      const source = replayOf(target.measurements);
      const search = await runSearch(
        { url: target.finding.target, maxRequests: target.maxRequests, budgetMs: target.budgetMs },
        source,
      );
      assert.equal(source.fired(), target.measurements.length, `${target.name}: every recorded burst asked for`);
      const again = judge(search, target.finding.target, target.budgetMs);
      assert.deepEqual(verdictOf(again), verdictOf(target.finding), target.name);
      // The two signs of CPU work each say what the verdict says, on their own.
      const cpu = target.finding.kind === 'cpu';
      assert.equal(again.cpuSignals?.firstAnswerMovedOut, cpu, `${target.name}: the earliest answer moving out`);
      assert.equal(again.cpuSignals?.totalsFitCores, cpu, `${target.name}: the totals' fit`);
    }
  });
}

test('the plan doubles from 2 and ends at the most allowed, whatever it is', () => {
  assert.deepEqual(doublingPlan(256), [2, 4, 8, 16, 32, 64, 128, 256]);
  assert.deepEqual(doublingPlan(100), [2, 4, 8, 16, 32, 64, 100]);
  assert.deepEqual(doublingPlan(2), [2]);
});

test('P is confirmed by N = P and N = P + 1, and by N = 2P + 1 until a burst of 1.5 · P in clean waves ruled out CPU', () => {
  const step = (requests: number, waves: number[]) => ({ requests, waves, refused: 0 }) as never;
  assert.deepEqual(
    checksFor(4, [step(8, [4, 4])]).map((c) => [c.requests, c.waves]),
    [
      [4, 1],
      [5, 2],
    ],
  );
  assert.deepEqual(
    checksFor(3, [step(4, [3, 1])]).map((c) => [c.requests, c.waves]),
    [
      [3, 1],
      [4, 2],
      [7, 3],
    ],
  );
});

test('hints: a well-known default beside the P found; several processes by their own pools, never "× null"', () => {
  assert.match(hintFor(40)!, /^40 is anyio's CapacityLimiter\(40\)/);
  assert.equal(hintFor(41), undefined);
  assert.match(hintForProcesses([40, 40])!, /^2 processes × 40: 40 is anyio's/);
  // Pools that differ (3 and 2, 5 in all): the sum is no process's pool, so 5's default is not said (it said
  // "2 processes × null: 5 is php-fpm's pm.max_children"); where a process's own pool is a known default, that is.
  assert.equal(hintForProcesses([3, 2]), undefined);
  const differ = hintForProcesses([5, 3])!;
  assert.equal(
    differ,
    "2 processes with pools of 5, 3: 5 is php-fpm's pm.max_children (5 in Debian's www.conf), or Puma's 5 threads; to change it: pm.max_children in the pool's .conf.",
  );
  assert.match(hintForProcesses([40, 10])!, /^2 processes with pools of 40, 10: 40 is anyio's .*; 10 is node-postgres'/);
});

/** The search and the verdict over a model server (./pool-model.ts), with --max-requests and the budget given. */
async function findInModel(server: ModelServer, maxRequests = 256, budgetMs = 180_000) {
  const url = 'http://127.0.0.1:1/model/{id}';
  const source = modelSource(server);
  const search = await runSearch({ url, maxRequests, budgetMs }, source);
  return { finding: judge(search, url, budgetMs), fired: source.fired };
}

test('a busy moment that makes one burst answer late is not CPU work: the totals still fit the pool’s steps', async () => {
  // A pool of 7, D = 200 ms, the burst of 8 (the one that shows the second wave) 0.4 · D late throughout.
  const { finding } = await findInModel({ poolSize: 7, delayMs: 200, lateBy: (burst) => (burst === 4 ? 80 : 0) });
  assert.equal(finding.kind, 'pool', finding.sentence);
  assert.equal(finding.poolSize, 7);
  assert.deepEqual(
    [finding.cpuSignals?.firstAnswerMovedOut, finding.cpuSignals?.totalsFitCores],
    [true, false],
    JSON.stringify(finding.cpuSignals),
  );
  assert.match(finding.sentence, /earliest answer came late .* read as a busy moment, not CPU work/);
});
