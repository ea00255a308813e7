/**
 * The results types, held by the compiler (npm test type-checks before it runs anything): a field that an
 * experiment did not declare, or misspelt, does not compile. Each `@ts-expect-error` below fails the type-check if
 * the line under it compiles, so these lines are the test; the assertions check the same values at run time.
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { toMeasurement, type ResultsFile } from '../scripts/lib/results/types.ts';
import type { FinishFields, PlannedBurst } from '../scripts/lib/experiment.ts';
import { errorKindOf, isNoAnswer, isOk, isRefusal, type BurstResult } from '../scripts/lib/client/burst-types.ts';

const burst: BurstResult = { startedAt: 0, totalMs: 10, connectMs: 1, requests: [{ id: 1, startMs: 0, endMs: 10, status: 200 }] };
const context = { label: 'sync', endpoint: '/sync-test', poolSize: 2, delayMs: 10, predictedMs: 10 };

test("a measurement carries the shared fields and the experiment's own, typed; a misspelt or undeclared one does not compile", () => {
  // An experiment of one's own declares its field (here: which rack served it) beside the shared ones.
  const m = toMeasurement<{ rack: string }>(context, burst, { waveMs: 5, rack: 'b' });
  assert.deepEqual([m.waveMs, m.rack, m.ok], [5, 'b', 1]);

  // @ts-expect-error: a shared field, misspelt
  toMeasurement(context, burst, { wavMs: 5 });
  // @ts-expect-error: a field of the experiment's own that it did not declare
  toMeasurement(context, burst, { rack: 'b' });
  // @ts-expect-error: read by a name the type does not know
  assert.equal(m.racks, undefined);

  const planned: PlannedBurst<{ rack: string }> = {
    label: 'sync',
    endpoint: '/sync-test',
    poolSize: 2,
    requests: 4,
    delayMs: 10,
    extra: { rack: 'b', workers: 2 },
  };
  assert.equal(planned.extra.rack, 'b');
  // @ts-expect-error: a declared field is required of every burst
  const lacking: PlannedBurst<{ rack: string }> = {
    label: 'sync',
    endpoint: '/sync-test',
    poolSize: 2,
    requests: 4,
    delayMs: 10,
  };
  assert.equal(lacking.extra, undefined);
});

test('a results file: what finish() is given must be a shared field or one the experiment declared', () => {
  const fields: FinishFields<{ memory: number[] }> = { memory: [1], overlays: [], params: { sizes: [100, 1000] } };
  assert.deepEqual(fields.memory, [1]);
  // @ts-expect-error: misspelt
  const misspelt: FinishFields<{ memory: number[] }> = { memroy: [1] };
  // @ts-expect-error: not declared at all
  const undeclared: FinishFields = { calibration: { ms: 200 } };
  assert.ok(misspelt && undeclared);

  const file = JSON.parse('{"memory": [1]}') as ResultsFile<{ memory: number[] }>;
  assert.deepEqual(file.memory, [1]);
  // @ts-expect-error: a field the file's type does not have
  assert.equal(file.calibration, undefined);
});

test('one meaning of ok, of an error kind and of a refusal, for every reader of the records', () => {
  assert.equal(isOk({ status: 200 }), true);
  assert.equal(isOk({ status: 204 }), true);
  for (const status of [null, 199, 301, 422, 503]) assert.equal(isOk({ status }), false, String(status));
  assert.equal(errorKindOf({ status: 200 }), null);
  assert.equal(errorKindOf({ status: 503 }), 'HTTP 503');
  assert.equal(errorKindOf({ status: null, error: 'ECONNRESET' }), 'ECONNRESET');
  for (const kind of ['HTTP 503', 'HTTP 429', 'ECONNREFUSED', 'ECONNRESET', 'closed'] as const)
    assert.equal(isRefusal(kind), true, kind);
  for (const kind of ['HTTP 500', 'HTTP 404', 'timeout', 'interrupted'] as const) assert.equal(isRefusal(kind), false, kind);
  assert.equal(isNoAnswer('timeout'), true);
  assert.equal(isNoAnswer('HTTP 502'), false);
  // @ts-expect-error: not a kind any client records
  errorKindOf({ status: null, error: 'timed out' });
  // A measurement counts by kind, with the same meaning of ok.
  const m = toMeasurement(context, {
    ...burst,
    requests: [
      { id: 1, startMs: 0, endMs: 1, status: 200 },
      { id: 2, startMs: 0, endMs: 1, status: 503 },
      { id: 3, startMs: 0, endMs: 1, status: null, error: 'timeout' },
    ],
  });
  assert.deepEqual([m.ok, m.errors, m.errorCounts], [1, 2, { 'HTTP 503': 1, timeout: 1 }]);
});
