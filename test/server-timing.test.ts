/**
 * Server-Timing: every answer of server.ts that waited or worked says where its time went, link by link, and the
 * burst client keeps it. The parts add up to the request's own time as the client measured it, within
 * max(20 ms, 2 %), and the time queued for a thread comes in steps of one wave: (k − 1) · D in the k-th.
 */
import { test, before, after } from './harness.ts';
import assert from 'node:assert/strict';
import { startServer } from '../scripts/lib/processes/start-server.ts';
import { postgresForTests } from './run-script.ts';
import type { Postgres } from '../scripts/lib/processes/postgres.ts';
import { fireBurst } from '../scripts/lib/client/burst.ts';
import { parseServerTiming } from '../scripts/lib/client/server-timing.ts';
import type { RequestRecord } from '../scripts/lib/client/burst-types.ts';

const D = 300;
let postgres: Postgres;
before(async () => {
  postgres = await postgresForTests();
});
after(() => postgres?.stop());

/** Where the server says a request's time went, against its time as the client saw it: max(20 ms, 2 %). */
function assertAddsUp(r: RequestRecord): void {
  const took = r.endMs - r.startMs;
  const said = Object.values(r.serverTiming ?? {}).reduce((sum, ms) => sum + ms, 0);
  const margin = Math.max(20, 0.02 * took);
  assert.ok(
    said <= took + 1 && took - said <= margin,
    `#${r.id}: the server accounts for ${said.toFixed(1)} of its ${took.toFixed(1)} ms (${JSON.stringify(r.serverTiming)})`,
  );
}

/**
 * Requests grouped by how long they waited (a new group where the wait jumps by more than half of D): the waves.
 * Each wave's wait is its first request's, its run the median of its requests' work.
 */
function wavesByWait(requests: readonly RequestRecord[], waitName: string): { waitMs: number; size: number; runMs: number }[] {
  const sorted = [...requests].sort((a, b) => a.serverTiming![waitName]! - b.serverTiming![waitName]!);
  const waves: { waitMs: number; runs: number[] }[] = [];
  for (const r of sorted) {
    const wait = r.serverTiming![waitName]!;
    const run = Object.entries(r.serverTiming!).find(([name]) => name !== waitName)![1];
    const last = waves.at(-1);
    if (last && wait - last.waitMs < D / 2) last.runs.push(run);
    else waves.push({ waitMs: wait, runs: [run] });
  }
  return waves.map(({ waitMs, runs }) => ({
    waitMs,
    size: runs.length,
    runMs: [...runs].sort((a, b) => a - b)[Math.floor(runs.length / 2)]!,
  }));
}

/** Each wave waited one wave's work longer than the one before: a step of D (the work of the wave ahead). */
function assertStepsOfD(waves: { waitMs: number; runMs: number }[]): void {
  for (const [k, wave] of waves.entries()) {
    if (k === 0) continue;
    const ahead = waves[k - 1]!;
    const step = wave.waitMs - ahead.waitMs;
    assert.ok(ahead.runMs >= D, `wave ${k}'s work took D at least: ${ahead.runMs} ms`);
    assert.ok(
      Math.abs(step - ahead.runMs) <= Math.max(20, 0.02 * ahead.runMs),
      `wave ${k + 1} waited ${step.toFixed(1)} ms longer than wave ${k}, whose work took ${ahead.runMs.toFixed(1)} ms`,
    );
  }
}

test('every route that waits or works says so in Server-Timing, by link, adding up to its time; those that do neither say nothing', async (t) => {
  const upstream = await startServer({ delayMs: D });
  t.after(() => upstream.stop());
  const server = await startServer({
    poolSize: 2,
    delayMs: D,
    upstreamUrl: upstream.url,
    databaseUrl: postgres.url,
    dbPoolSize: 2,
    hashIterations: 1000,
    cpuIterations: 1000,
  });
  t.after(() => server.stop());
  const expected: [string, string[]][] = [
    ['/asyncio-test/1', ['timer']],
    ['/sync-test/1', ['pool-wait', 'pool-run']],
    ['/blocking-loop-test/1', ['loop-block']],
    ['/cpu-loop-test/1', ['loop-cpu']],
    ['/cpu-pool-test/1', ['pool-wait', 'pool-run']],
    ['/upstream-test/1', ['upstream']],
    ['/db-test/1', ['db-wait', 'db-query']],
    ['/hash-test/1', ['libuv']],
    ['/hash-pool-test/1', ['pool-wait', 'pool-run']],
    ['/file-test/1', ['libuv']],
  ];
  for (const [path, names] of expected) {
    const response = await fetch(`${server.url}${path}`);
    assert.equal(response.status, 200, path);
    const header = response.headers.get('server-timing');
    assert.ok(header, `${path} has a Server-Timing header`);
    assert.match(header, /^[a-z-]+;dur=\d+(\.\d+)?(, [a-z-]+;dur=\d+(\.\d+)?)*$/, `${path}: W3C syntax, ms`);
    assert.deepEqual(Object.keys(parseServerTiming(header)!), names, path);
    // Its path warm now, the same route again through the burst client: the parts add up to the request's time.
    const [again] = (await fireBurst({ baseUrl: server.url, path: () => path, requests: 1, timeoutMs: 20_000 })).requests;
    assert.deepEqual(Object.keys(again!.serverTiming!), names, path);
    assertAddsUp(again!);
    if (['/asyncio-test/1', '/sync-test/1', '/blocking-loop-test/1', '/upstream-test/1', '/db-test/1'].includes(path)) {
      const work = again!.serverTiming![names.at(-1)!]!;
      assert.ok(work >= D * 0.98 && work < D * 3, `${path}: its work took D (${work} ms)`);
    }
  }
  for (const path of ['/health', '/stats', '/sync-test/abc', '/nope']) {
    const response = await fetch(`${server.url}${path}`);
    await response.arrayBuffer();
    assert.equal(response.headers.get('server-timing'), null, `${path} neither waited nor worked`);
  }
});

test('a burst on the pool: each request’s parts add up to its time, and the waits come in steps of one wave', async (t) => {
  const P = 4;
  const N = 20;
  const server = await startServer({ poolSize: P, delayMs: D });
  t.after(() => server.stop());
  // A burst on a cold path takes its requests in more slowly: time before any link, and no link's to say. Under a
  // load of 4 on 2 cores the first burst of these after a warm-up of 422s still left up to 33 ms outside the links,
  // the next ones 2–8 ms. So one burst first, as a server that has been serving.
  await fireBurst({ baseUrl: server.url, path: (i) => `/sync-test/${i}`, requests: N, timeoutMs: 20_000 });
  const burst = await fireBurst({ baseUrl: server.url, path: (i) => `/sync-test/${i}`, requests: N, timeoutMs: 20_000 });
  assert.ok(burst.requests.every((r) => r.status === 200));
  for (const r of burst.requests) assertAddsUp(r);

  // Five waves of four: the k-th waited for the k − 1 ahead of it, (k − 1) · D.
  const waves = wavesByWait(burst.requests, 'pool-wait');
  assert.deepEqual(
    waves.map((w) => w.size),
    [P, P, P, P, P],
    `waits: ${burst.requests.map((r) => r.serverTiming!['pool-wait']!.toFixed(0))}`,
  );
  assertStepsOfD(waves);
});

test('a burst on the database pool: db-wait and db-query add up to each request’s time, the waits in steps of D', async (t) => {
  const P = 3;
  const N = 9;
  const server = await startServer({ poolSize: 1, delayMs: D, databaseUrl: postgres.url, dbPoolSize: P });
  t.after(() => server.stop());
  await fireBurst({ baseUrl: server.url, path: (i) => `/db-test/${i}`, requests: N, timeoutMs: 20_000 }); // as above
  const burst = await fireBurst({ baseUrl: server.url, path: (i) => `/db-test/${i}`, requests: N, timeoutMs: 20_000 });
  assert.ok(burst.requests.every((r) => r.status === 200));
  for (const r of burst.requests) {
    assert.deepEqual(Object.keys(r.serverTiming!), ['db-wait', 'db-query']);
    assertAddsUp(r);
  }
  const waves = wavesByWait(burst.requests, 'db-wait');
  assert.deepEqual(
    waves.map((w) => w.size),
    [P, P, P],
  );
  assertStepsOfD(waves);
});
