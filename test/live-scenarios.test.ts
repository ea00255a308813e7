/**
 * The live page's scenarios, in this process: each scenario's lesson in the words of the settings it is shown
 * beside, the pool that sets its waves as results' poolSize means it, and the page's modules free of scenario names
 * (all that is scenario-specific is declared on the scenario).
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
