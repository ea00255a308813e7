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
function verdictOf(
  finding: Finding,
): Omit<Finding, 'elapsedMs' | 'configured' | 'cpuSignals' | 'sentence' | 'serverTiming' | 'hint'> {
  const {
    hint: _hint,
    elapsedMs: _elapsed,
    configured: _configured,
    cpuSignals: _signals,
    sentence: _sentence,
    serverTiming: _serverTiming,
    ...verdict
  } = finding;
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
      // The hint beside it where there was one (the table of defaults has grown since); the same sentence, where it
      // may since have grown a clause (the largest P a search could find).
      if (target.finding.hint)
        assert.match(again.hint ?? '', new RegExp(`^(\\d+ processes × )?${target.finding.poolSize ?? ''}`));
      assert.ok(again.sentence.startsWith(target.finding.sentence.replace(/\.$/, '')), `${target.name}: ${again.sentence}`);
      // CPU work where both signs say so. Where one alone said it, the committed sentence says which, and that it
      // was not taken for CPU work (tallied for the docs by the test below).
      const cpu = target.finding.kind === 'cpu';
      const signals = again.cpuSignals!;
      assert.equal(signals.firstAnswerMovedOut && (signals.totalsFitCores || !signals.totalsTell), cpu, target.name);
      if (!cpu && (signals.firstAnswerMovedOut || signals.totalsFitCores))
        assert.match(target.finding.sentence, /not (read as )?CPU work/, `${target.name}: one sign alone, unsaid`);
    }
  });
}

test('how often each sign of CPU work alone would have erred on the committed bursts: the earliest answer, the totals', async () => {
  const erred = { firstAnswerMovedOut: [] as string[], totalsFitCores: [] as string[] };
  let targets = 0;
  for (const path of RECORDED)
    for (const target of recordedTargets(join(ROOT, path))) {
      targets++;
      const search = await runSearch(
        { url: target.finding.target, maxRequests: target.maxRequests, budgetMs: target.budgetMs },
        replayOf(target.measurements),
      );
      const signals = judge(search, target.finding.target, target.budgetMs).cpuSignals!;
      const cpu = target.finding.kind === 'cpu';
      for (const sign of ['firstAnswerMovedOut', 'totalsFitCores'] as const)
        if (signals[sign] !== cpu) erred[sign].push(`${path} ${target.name}`);
    }
  console.log(`of ${targets} committed targets, each sign alone would have erred on: ${JSON.stringify(erred)}`);
  // Each alone errs now and then (the totals where a server that grows its pool behind a small backlog answered
  // slower than its steps); together they have not, and the sentence says where one stood alone (the test above).
  for (const sign of ['firstAnswerMovedOut', 'totalsFitCores'] as const)
    assert.ok(erred[sign].length <= targets / 8, JSON.stringify(erred));
});

test('the plan doubles from 2 and ends at the most allowed, whatever it is', () => {
  assert.deepEqual(doublingPlan(256), [2, 4, 8, 16, 32, 64, 128, 256]);
  assert.deepEqual(doublingPlan(100), [2, 4, 8, 16, 32, 64, 100]);
  assert.deepEqual(doublingPlan(2), [2]);
});

test('P is confirmed by N = P and N = P + 1, and by N = 2P + 1 until a burst of 1.5 · P in clean waves ruled out CPU', () => {
  const step = (requests: number, waves: number[]) => ({ requests, waves, poolWaves: waves, refused: 0 }) as never;
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
  // Jetty's 200 less the threads its connector keeps (196 on this machine's 2 cores): close below, and said so.
  assert.match(hintFor(196)!, /^196 is close below 200: a servlet container's request threads: .*Jetty's QueuedThreadPool/);
  assert.equal(hintFor(180), undefined);
  assert.match(hintForProcesses([40, 40])!, /^2 processes × 40: 40 is anyio's/);
  // Pools that differ (3 and 2, 5 in all): the sum is no process's pool, so 5's default is not said (it said
  // "2 processes × null: 5 is php-fpm's pm.max_children"); where a process's own pool is a known default, that is.
  const threeAndTwo = hintForProcesses([3, 2])!;
  assert.doesNotMatch(threeAndTwo, /null|\b5 is/);
  assert.match(threeAndTwo, /^2 processes with pools of 3, 2: 3 is Puma's threads/);
  assert.equal(hintForProcesses([7, 2]), undefined);
  const differ = hintForProcesses([5, 3])!;
  assert.match(differ, /^2 processes with pools of 5, 3: 5 is php-fpm's pm\.max_children .*; 3 is Puma's threads/);
  assert.match(
    hintForProcesses([40, 10])!,
    /^2 processes with pools of 40, 10: 40 is anyio's .*; 10 is a database pool's default: node-postgres'/,
  );
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

test('a pool of 200 behind --max-requests 256: found from the burst of 256, and the plan says 255 is the most it can find', async () => {
  const plans: string[] = [];
  const url = 'http://127.0.0.1:1/model/{id}';
  const source = modelSource({ poolSize: 200, delayMs: 1000 });
  const search = await runSearch({ url, maxRequests: 256, budgetMs: 180_000, onPlan: (p) => plans.push(p) }, source);
  const finding = judge(search, url, 180_000);
  assert.equal(finding.kind, 'pool', finding.sentence);
  assert.equal(finding.poolSize, 200);
  assert.deepEqual(source.fired, [1, 2, 4, 8, 16, 32, 64, 128, 256, 200, 201]);
  assert.match(plans[0]!, /the largest P it can find is 255/);
  assert.match(finding.hint!, /Tomcat's maxThreads/);
  // A pool as large as the largest burst is no limit up to it, and the sentence says how far it could look.
  const none = await findInModel({ poolSize: 256, delayMs: 1000 });
  assert.equal(none.finding.kind, 'none', none.finding.sentence);
  assert.match(
    none.finding.sentence,
    /no limit up to 256 \(the largest pool it could find with --max-requests 256 is 255; raise it/,
  );
});

test('a pool of 200 behind a slow intake: waves read from each request’s own start, and a sentence on the intake', async () => {
  // As a servlet container with a backlog of 100 did: N = 200 came back as 181 + 19, the 19 taken 1018 ms late by
  // the kernel (a SYN sent again after a second), each then served at once.
  const tomcat: ModelServer = {
    poolSize: 200,
    delayMs: 1000,
    takenMs: (i, n) => (n === 200 && i >= 181 ? 1018 : 0.01 * i),
  };
  const { finding, fired } = await findInModel(tomcat);
  assert.equal(finding.kind, 'pool', finding.sentence);
  assert.equal(finding.poolSize, 200);
  assert.deepEqual(fired.slice(-2), [200, 201]);
  assert.match(
    finding.sentence,
    /intake shaped 1 burst: connections waited up to 10\d\d ms to be taken, and 19 of N = 200 ended a wave late only because they were taken late/,
  );
  assert.match(finding.sentence, /backlog .* or its acceptor is the next thing to look at/);

  // Cold: the first burst of 256 taken in part a second late (an acceptor not yet warm), the same burst warm a moment
  // later: fired once more, and P read from that one.
  const cold = await findInModel({
    poolSize: 200,
    delayMs: 1000,
    takenMs: (i, n, burst) => (n === 256 && burst === 9 && i >= 117 ? 1018 : 0.01 * i),
  });
  assert.equal(cold.finding.kind, 'pool', cold.finding.sentence);
  assert.equal(cold.finding.poolSize, 200);
  assert.deepEqual(cold.fired.slice(-4), [256, 256, 200, 201]);
  assert.match(cold.finding.sentence, /139 of N = 256 ended a wave late/);
});

test('a server that sends Server-Timing: its pool-wait in steps of D corroborates the finding, and never decides it', async () => {
  const plain = await findInModel({ poolSize: 7, delayMs: 200 });
  const told = await findInModel({ poolSize: 7, delayMs: 200, serverTiming: (waited) => waited });
  assert.equal(told.finding.kind, 'pool');
  assert.equal(told.finding.poolSize, 7);
  assert.deepEqual(told.finding.serverTiming, { metric: 'pool-wait', requests: 8, waves: [7, 1], agrees: true });
  assert.match(
    told.finding.sentence,
    /Server-Timing agrees \(pool-wait in the burst of 8: 7 waited none, 1 about 1 · D\); it corroborates/,
  );
  assert.equal(plain.finding.serverTiming, undefined);
  // A server whose header says something else (every answer "waited none") changes nothing but the clause.
  const lying = await findInModel({ poolSize: 7, delayMs: 200, serverTiming: () => 0 });
  assert.deepEqual(verdictOf(lying.finding), verdictOf(plain.finding));
  assert.deepEqual(lying.fired, plain.fired);
  assert.match(lying.finding.sentence, /Server-Timing counts otherwise .* the finding stands on the answers' timing/);
});
