/**
 * One record per task, and GET /stats/tasks: every task of the pool queued, started and ended once, on the
 * machine's clock; the changes since a cursor; the counts that the changes add up to; a log of fixed size that says
 * so when a reader fell behind it; and, with --workers 2, one answer for both processes.
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../scripts/lib/processes/start-server.ts';
import { fireBurst } from '../scripts/lib/client/burst.ts';
import { getJson } from '../scripts/lib/client/http-get.ts';
import {
  decodeCursor,
  encodeCursor,
  mergeTaskChanges,
  TaskLog,
  type CurrentCounts,
  type TaskChange,
  type TaskChanges,
} from '../server/task-log.ts';

const D = 300;

const tasksSince = (server: RunningServer, cursor?: string) =>
  getJson<TaskChanges>(`${server.url}/stats/tasks${cursor === undefined ? '' : `?since=${encodeURIComponent(cursor)}`}`);

/**
 * The counts a list of changes adds up to, from `start`. `started` holds the tasks seen starting, across reads: an
 * end takes a task off the busy count if it had started, else off the queue.
 */
function replay(changes: readonly TaskChange[], start: CurrentCounts, started = new Set<string>()): CurrentCounts {
  const counts = { pool: { ...start.pool }, db: { ...start.db } };
  for (const change of changes) {
    const c = counts[change.link];
    const key = `${change.pid}/${change.task}`;
    if (change.event === 'queued') c.queued++;
    else if (change.event === 'started') {
      started.add(key);
      c.queued--;
      c.busy++;
    } else if (started.has(key)) c.busy--;
    else c.queued--;
  }
  return counts;
}

test('a task log counts, numbers and keeps a fixed number of changes; a reader that fell behind is told', () => {
  const log = new TaskLog(8, 42);
  const a = log.queue('pool', 1);
  const b = log.queue('db', 2);
  log.start(a, 3);
  assert.deepEqual(log.current(), { pool: { busy: 1, queued: 0 }, db: { busy: 0, queued: 1 } });
  log.end(b, 4); // left the queue without a connection
  log.end(a, 5);
  log.end(a, 6); // once only
  log.start(b, 7); // an ended task does not start
  assert.deepEqual(log.current(), { pool: { busy: 0, queued: 0 }, db: { busy: 0, queued: 0 } });
  const all = log.since(0);
  assert.equal(all.reset, false);
  assert.deepEqual(
    all.changes.map((c) => [c.pid, c.link, c.task, c.event, c.at]),
    [
      [42, 'pool', 1, 'queued', 1],
      [42, 'db', 2, 'queued', 2],
      [42, 'pool', 1, 'started', 3],
      [42, 'db', 2, 'ended', 4],
      [42, 'pool', 1, 'ended', 5],
    ],
  );
  assert.deepEqual(
    log.since(3).changes.map((c) => c.at),
    [4, 5],
    'only what came after the cursor',
  );
  assert.deepEqual(log.since(null), { ...all, changes: [] }, 'no cursor: where the log stands, nothing else');

  // Ten more tasks queued: 15 changes in a log of 8. The oldest are gone, and a reader of them is told so.
  for (let i = 0; i < 10; i++) log.queue('pool', 10 + i);
  const late = log.since(3);
  assert.equal(late.reset, true);
  assert.equal(late.changes.length, 8, 'every change kept, and no more than the log holds');
  assert.deepEqual(
    late.changes.map((c) => c.at),
    [12, 13, 14, 15, 16, 17, 18, 19],
  );
  assert.equal(log.since(7).reset, false, 'a cursor just before the oldest kept change misses nothing');
  assert.equal(log.since(99).reset, true, 'a cursor the log never reached (another process) starts again');
  assert.equal(late.current.pool.queued, 10);
});

test('a cursor names each process’s last change; merging sorts the changes by time and adds the counts', () => {
  const cursor = new Map([
    [101, 7],
    [202, 0],
  ]);
  assert.equal(encodeCursor(cursor), '101.7-202.0');
  assert.deepEqual(decodeCursor('101.7-202.0'), cursor);
  assert.deepEqual(decodeCursor(''), new Map());
  for (const bad of ['abc', '1.2-', '1.-2', '-1.2', '1.2.3', '1e3.2', `1.${'9'.repeat(16)}`])
    assert.equal(decodeCursor(bad), null, bad);

  const one = new TaskLog(16, 101);
  const two = new TaskLog(16, 202);
  one.queue('pool', 5);
  two.queue('pool', 3);
  two.start(two.queue('db', 4), 6);
  const merged = mergeTaskChanges([one.since(0), two.since(0)], 10);
  assert.deepEqual(
    merged.changes.map((c) => [c.pid, c.at]),
    [
      [202, 3],
      [202, 4],
      [101, 5],
      [202, 6],
    ],
  );
  assert.deepEqual(merged.current, { pool: { busy: 0, queued: 2 }, db: { busy: 1, queued: 0 } });
  assert.equal(merged.cursor, '101.1-202.3');
  assert.equal(merged.now, 10);
});

test('GET /stats/tasks: each sync task queued, started on its thread, ended; the counts the changes add up to, at every read', async (t) => {
  const server = await startServer({ poolSize: 2, delayMs: D });
  t.after(() => server.stop());
  const before = await tasksSince(server);
  assert.deepEqual(before.changes, []);
  assert.deepEqual(before.current, { pool: { busy: 0, queued: 0 }, db: { busy: 0, queued: 0 } });
  assert.ok(Math.abs(before.now - (performance.timeOrigin + performance.now())) < 1000, "the server's clock is this one's");

  // Read while the burst runs, each read from the last one's cursor: its changes replayed onto the counts so far
  // must give the counts it states.
  const burst = fireBurst({ baseUrl: server.url, path: (i) => `/sync-test/${i}`, requests: 6, timeoutMs: 10_000 });
  let cursor = before.cursor;
  let counts = before.current;
  const changes: TaskChange[] = [];
  const started = new Set<string>();
  let busiest = 0;
  let done = false;
  void burst.then(() => (done = true));
  while (!done || counts.pool.busy + counts.pool.queued > 0) {
    const read = await tasksSince(server, cursor);
    assert.equal(read.reset, false);
    counts = replay(read.changes, counts, started);
    assert.deepEqual(counts, read.current, `the changes add up to the counts (after ${changes.length} changes)`);
    busiest = Math.max(busiest, read.current.pool.busy);
    changes.push(...read.changes);
    cursor = read.cursor;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const result = await burst;
  assert.ok(result.requests.every((r) => r.status === 200));
  assert.ok(busiest <= 2, 'never more busy than threads');

  // 6 tasks, each queued, started and ended once, in that order; three waves of two threads.
  const byTask = new Map<number, TaskChange[]>();
  for (const c of changes) byTask.set(c.task, [...(byTask.get(c.task) ?? []), c]);
  assert.equal(byTask.size, 6);
  for (const [task, events] of byTask) {
    assert.deepEqual(
      events.map((e) => e.event),
      ['queued', 'started', 'ended'],
      `task ${task}`,
    );
    const [queued, started, ended] = events.map((e) => e.at) as [number, number, number];
    assert.ok(queued <= started && started <= ended, `task ${task}: ${queued} ≤ ${started} ≤ ${ended}`);
    assert.ok(ended - started >= D * 0.98, `task ${task} held its thread for D: ${ended - started} ms`);
  }
  const starts = changes
    .filter((c) => c.event === 'started')
    .map((c) => c.at)
    .sort((a, b) => a - b);
  const firstStart = starts[0]!;
  const waves = starts.map((at) => Math.round((at - firstStart) / D));
  assert.deepEqual(waves, [0, 0, 1, 1, 2, 2], `starts in three waves of two: ${starts.map((at) => at - firstStart)}`);
  // On this machine's clock: the first start came after the burst was fired, the last end before this read.
  const burstStart = performance.timeOrigin + result.startedAt;
  assert.ok(firstStart >= burstStart - 5, 'started after it was sent');
  assert.ok(Math.max(...changes.map((c) => c.at)) <= performance.timeOrigin + performance.now());

  const nothingNew = await tasksSince(server, cursor);
  assert.deepEqual(nothingNew.changes, []);
  assert.equal(nothingNew.cursor, cursor);

  const bad = await fetch(`${server.url}/stats/tasks?since=yesterday`);
  assert.equal(bad.status, 422);
  assert.deepEqual(((await bad.json()) as { detail: { loc: string[] }[] }).detail[0]!.loc, ['query', 'since']);
});

test('the log is bounded: a burst of more changes than it keeps gives the last ones and reset, and the counts to start again from', async (t) => {
  const server = await startServer({ poolSize: 4, delayMs: 0, taskLogSize: 30 });
  t.after(() => server.stop());
  const before = await tasksSince(server);
  const burst = await fireBurst({ baseUrl: server.url, path: (i) => `/sync-test/${i}`, requests: 40, timeoutMs: 10_000 });
  assert.ok(burst.requests.every((r) => r.status === 200));
  const late = await tasksSince(server, before.cursor);
  assert.equal(late.reset, true);
  assert.deepEqual([...decodeCursor(late.cursor)!.values()], [120], '120 changes happened (40 tasks × 3)');
  assert.equal(late.changes.length, 30, 'the last 30 are kept');
  assert.ok(
    late.changes.some((c) => c.task === 40 && c.event === 'ended'),
    'the last task’s end among them',
  );
  assert.deepEqual(late.current.pool, { busy: 0, queued: 0 });
});

test('--workers 2: one answer for both processes, their changes by time, a cursor for each, the counts added up', async (t) => {
  const server = await startServer({ poolSize: 1, delayMs: D, workers: 2 });
  t.after(() => server.stop());
  const before = await tasksSince(server);
  const burst = await fireBurst({ baseUrl: server.url, path: (i) => `/sync-test/${i}`, requests: 8, timeoutMs: 20_000 });
  assert.ok(burst.requests.every((r) => r.status === 200));
  const after = await tasksSince(server, before.cursor);
  assert.equal(after.reset, false);
  const pids = [...new Set(burst.requests.map((r) => Number(r.worker)))].sort();
  assert.equal(pids.length, 2, 'both workers served');
  assert.deepEqual([...new Set(after.changes.map((c) => c.pid))].sort(), pids);
  assert.deepEqual([...decodeCursor(after.cursor)!.keys()].sort(), pids, 'the cursor names each');
  for (const pid of pids) {
    const own = after.changes.filter((c) => c.pid === pid);
    const served = burst.requests.filter((r) => Number(r.worker) === pid).length;
    assert.equal(own.length, 3 * served, `worker ${pid}: 3 changes for each of its ${served} requests`);
  }
  const times = after.changes.map((c) => c.at);
  assert.deepEqual(
    times,
    [...times].sort((a, b) => a - b),
    'in the order they happened',
  );
  assert.deepEqual(replay(after.changes, before.current), after.current, 'the changes add up to the counts');
  assert.deepEqual((await tasksSince(server, after.cursor)).changes, []);
});
