/**
 * The live page's scenarios and its exact pool gauges, in this process: each scenario's lesson in the words of the
 * settings it is shown beside, the pool that sets its waves as results' poolSize means it, the page's modules free
 * of scenario names (all that is scenario-specific is declared on the scenario), and the server's record of its
 * tasks turned into gauge steps on the burst's clock.
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  SCENARIOS,
  SCENARIO_TABLE,
  lessonOf,
  modelOf,
  readSettings,
  serverConfigOf,
  wavePoolSizeOf,
  type Settings,
} from '../scripts/lib/live/scenarios.ts';
import { findRuntime } from '../scripts/lib/processes/runtimes.ts';
import { ClockOffset, PoolCounts } from '../scripts/lib/live/pool-feed.ts';
import type { TaskChanges } from '../server/task-log.ts';
import { ROOT } from './run-script.ts';

const settingsOf = (query: Record<string, unknown>): Settings => {
  const read = readSettings(query);
  assert.ok('settings' in read, JSON.stringify(read));
  return read.settings;
};
const lesson = (query: Record<string, unknown>) => {
  const s = settingsOf(query);
  return lessonOf(s, modelOf(s, null, 2));
};

test('a scenario’s lesson follows the settings it is shown beside, not its defaults', () => {
  assert.match(lesson({ scenario: 'sync' }), /a pool of 40 threads serves 100 requests in three waves/);
  const other = lesson({ scenario: 'sync', requests: 10, pool: 4, delayMs: 300 });
  assert.match(other, /blocks a pool thread for 300 ms; a pool of 4 threads serves 10 requests in three waves/);
  assert.doesNotMatch(other, /40|100|3 s/);
  assert.match(lesson({ scenario: 'sync', requests: 1, pool: 1 }), /a pool of 1 thread serves 1 request in one wave/);
  assert.match(
    lesson({ scenario: 'db', requests: 30, pool: 10 }),
    /pool of 10 connections: waves of 10, so 30 requests take three waves/,
  );
  assert.match(
    lesson({ scenario: 'workers', workers: 3, pool: 2 }),
    /3 processes, each with its own event loop and pool of 2 threads/,
  );
  assert.match(lesson({ scenario: 'hash', threads: 1 }), /libuv’s 1 thread,/);
  for (const name of SCENARIOS) {
    const words = lesson({ scenario: name });
    assert.doesNotMatch(words, /[{}]/, `${name}: ${words}`);
    assert.doesNotMatch(SCENARIO_TABLE[name].title, /\d/, `${name}'s title names no figure`);
  }
});

test('the pool that sets the waves, as results’ poolSize means it, and the server each scenario starts', () => {
  const expected: Record<string, number | null> = {
    async: null,
    sync: 4,
    'blocking-loop': 1,
    'cpu-loop': 1,
    'cpu-pool': 4,
    db: 4,
    hash: 3,
    workers: 4,
  };
  for (const name of SCENARIOS) {
    assert.equal(wavePoolSizeOf(settingsOf({ scenario: name, pool: 4, threads: 3 })), expected[name], name);
  }
  const db = serverConfigOf(settingsOf({ scenario: 'db', pool: 7 }));
  assert.equal(db.settings.dbPoolSize, 7);
  assert.equal(db.settings.poolSize, 1);
  assert.equal(db.database, true);
  assert.deepEqual(serverConfigOf(settingsOf({ scenario: 'hash', threads: 3 })).env, { UV_THREADPOOL_SIZE: '3' });
  assert.equal(serverConfigOf(settingsOf({ scenario: 'workers', workers: 3 })).settings.workers, 3);
  assert.equal(serverConfigOf(settingsOf({ scenario: 'cpu-loop' })).work, 'cpu');
  assert.equal(modelOf(settingsOf({ scenario: 'blocking-loop', requests: 3, delayMs: 100 }), null, 2).predictedMs, 300);
  assert.deepEqual(
    modelOf(settingsOf({ scenario: 'workers', requests: 10, pool: 2, workers: 2 }), null, 2).boundariesMs,
    [3000, 6000, 9000],
  );
});

test('the page’s modules name no scenario: what is scenario-specific comes with the scenario', () => {
  const dir = join(ROOT, 'scripts', 'live');
  const modules = readdirSync(dir).filter((name) => name.endsWith('.js'));
  assert.ok(modules.length >= 5, `${modules.length} modules`);
  const names = SCENARIOS.map((name) => name.replace('-', '\\-')).join('|');
  // A scenario matched by name: compared, a case, looked up, or a table keyed by it.
  const byName = new RegExp(
    `(?:[!=]==?|case)\\s*['"\`](?:${names})['"\`]|scenarios\\.(?:${names})\\b|\\[['"\`](?:${names})['"\`]\\]|['"\`]?\\b(?:${names})['"\`]?\\s*:\\s*[[{'"]`,
  );
  for (const name of modules) {
    const code = readFileSync(join(dir, name), 'utf8');
    assert.doesNotMatch(code, byName, `${name} matches a scenario by its name`);
  }
  // The check can fail: the page's code before the scenarios declared their gauges and colouring.
  assert.match("const GAUGES_OF = { sync: ['busy'] }; if (view.settings?.scenario === 'workers') {}", byName);
  assert.match('scenarios.sync ?? fallback', byName);
});

test('runtime= in the address: what runs the server, checked like the other settings', () => {
  assert.equal(settingsOf({ scenario: 'sync' }).runtime, 'node');
  for (const runtime of ['bun', 'deno'] as const) {
    const found = findRuntime(runtime);
    if ('missing' in found) continue; // refused below, with the reason
    assert.equal(serverConfigOf(settingsOf({ scenario: 'sync', runtime })).runtime, runtime);
  }
  const refused = (query: Record<string, unknown>) => {
    const read = readSettings(query);
    assert.ok('errors' in read, JSON.stringify(read));
    return read.errors.map((e) => `${e.loc.join('.')}: ${e.msg}`).join('; ');
  };
  assert.match(refused({ scenario: 'sync', runtime: 'python' }), /^query\.runtime: runtime must be one of node, bun, deno$/);
  assert.match(
    refused({ scenario: 'hash', runtime: 'bun' }),
    /^query\.runtime: (the hash scenario models libuv's|runtime bun cannot run here)/,
  );
  assert.match(
    refused({ scenario: 'workers', runtime: 'deno' }),
    /^query\.runtime: (Deno cannot run server\.ts with --workers|runtime deno cannot run here)/,
  );
});

/** An answer of GET /stats/tasks: changes at the given server times (epoch ms). */
function answer(
  now: number,
  changes: [link: 'pool' | 'db', task: number, event: 'queued' | 'started' | 'ended', at: number][],
  current: TaskChanges['current'],
  reset = false,
): TaskChanges {
  return {
    now,
    cursor: 'c',
    reset,
    changes: changes.map(([link, task, event, at]) => ({ pid: 1, link, task, event, at })),
    current,
  };
}
const idle = { pool: { busy: 0, queued: 0 }, db: { busy: 0, queued: 0 } };

test('the server’s record of its tasks becomes one gauge step per change, on the burst’s clock, ending where the server is', () => {
  // A burst begun at epoch 1000: three tasks on a pool of two, D = 300.
  const counts = new PoolCounts((epochMs) => Math.round((epochMs - 1000) * 1000) / 1000);
  counts.begin(idle);
  const first = counts.apply(
    answer(
      1010,
      [
        ['pool', 1, 'queued', 1002],
        ['pool', 1, 'started', 1002.5],
        ['pool', 2, 'queued', 1003],
        ['pool', 2, 'started', 1003.5],
        ['pool', 3, 'queued', 1004],
      ],
      { pool: { busy: 2, queued: 1 }, db: { busy: 0, queued: 0 } },
    ),
  );
  assert.equal(first.from, 0);
  assert.deepEqual(
    first.steps.map((s) => [s.atMs, s.busy, s.queued]),
    [
      [2, 0, 1],
      [2.5, 1, 0],
      [3, 1, 1],
      [3.5, 2, 0],
      [4, 2, 1],
    ],
  );
  assert.equal(counts.idle, false);
  const rest = counts.apply(
    answer(
      1700,
      [
        ['pool', 1, 'ended', 1302.6],
        ['pool', 3, 'started', 1302.7],
        ['pool', 2, 'ended', 1303.6],
        ['pool', 3, 'ended', 1602.8],
      ],
      idle,
    ),
  );
  assert.equal(rest.from, 5);
  assert.deepEqual(
    rest.steps.map((s) => [s.atMs, s.busy, s.queued]),
    [
      [302.6, 1, 1],
      [302.7, 2, 0],
      [303.6, 1, 0],
      [602.8, 0, 0],
    ],
  );
  assert.equal(counts.idle, true);
  assert.ok(rest.steps.every((s) => s.link === 'pool'));
});

test('a change the server recorded late, with an earlier time, redraws the steps after it', () => {
  // A thread stamps the moment it began a task; the event loop records it when it next looks, after another's end.
  const counts = new PoolCounts((epochMs) => epochMs);
  counts.begin(idle);
  counts.apply(
    answer(
      20,
      [
        ['pool', 1, 'queued', 1],
        ['pool', 1, 'started', 2],
        ['pool', 2, 'queued', 3],
      ],
      { pool: { busy: 1, queued: 1 }, db: idle.db },
    ),
  );
  const ended = counts.apply(answer(330, [['pool', 1, 'ended', 302]], { pool: { busy: 0, queued: 1 }, db: idle.db }));
  assert.deepEqual(ended, { from: 3, steps: [{ atMs: 302, link: 'pool', busy: 0, queued: 1 }] });
  // Task 2 began at 301, on a thread freed just before (recorded late): it is counted from 301, and the end after it.
  const late = counts.apply(
    answer(
      340,
      [
        ['pool', 3, 'queued', 335],
        ['pool', 2, 'started', 301],
      ],
      { pool: { busy: 1, queued: 1 }, db: idle.db },
    ),
  );
  assert.equal(late.from, 3);
  assert.deepEqual(
    late.steps.map((s) => [s.atMs, s.busy, s.queued]),
    [
      [301, 2, 0],
      [302, 1, 0],
      [335, 1, 1],
    ],
  );
});

test('a task whose client hung up while queued leaves the queue; lost changes (a reset) start again from the server’s counts', () => {
  const counts = new PoolCounts((epochMs) => epochMs);
  counts.begin(idle);
  const { steps } = counts.apply(
    answer(
      50,
      [
        ['db', 1, 'queued', 10],
        ['db', 1, 'started', 11],
        ['db', 2, 'queued', 12],
        ['db', 2, 'ended', 20],
      ],
      { pool: { busy: 0, queued: 0 }, db: { busy: 1, queued: 0 } },
    ),
  );
  assert.deepEqual(steps.at(-1), { atMs: 20, link: 'db', busy: 1, queued: 0 });
  const reset = counts.apply(answer(900, [], { pool: { busy: 3, queued: 5 }, db: { busy: 0, queued: 0 } }, true));
  assert.deepEqual(reset, {
    from: 4,
    steps: [
      { atMs: 900, link: 'pool', busy: 3, queued: 5 },
      { atMs: 900, link: 'db', busy: 0, queued: 0 },
    ],
  });
  // Tasks running before the counts were set end as busy ones.
  const after = counts.apply(answer(1000, [['pool', 9, 'ended', 950]], { pool: { busy: 2, queued: 5 }, db: idle.db }));
  assert.deepEqual(after, { from: 6, steps: [{ atMs: 950, link: 'pool', busy: 2, queued: 5 }] });
});

test('the server’s clock mapped onto this process’s: what every answer allows, nearest zero', () => {
  const clock = new ClockOffset();
  clock.observe(1000, 1040, 1010); // offset within [-30, 10]: the clocks may agree
  assert.equal(clock.offsetMs, 0);
  clock.observe(2000, 2004, 2007); // within [3, 7]: they do not
  assert.equal(clock.offsetMs, 3);
  assert.equal(clock.toLocal(10_003), 10_000);
  assert.equal(clock.boundMs, 4);
  clock.observe(3000, 3002, 3008); // within [6, 8]: both hold only within [6, 7]
  assert.equal(clock.offsetMs, 6);
  assert.equal(clock.boundMs, 1);
});
