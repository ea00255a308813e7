import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { timelineGeometry, timelineSvg, overlaySvg, servedSpans, MAX_BARS } from '../scripts/lib/view/charts.ts';
import { sweepGeometry, staircaseGeometry } from '../scripts/lib/view/sweep-charts.ts';
import { niceStep, CHART_BOX } from '../scripts/lib/view/svg.ts';
import { toMeasurement } from '../scripts/lib/results/types.ts';
import type { RequestRecord } from '../scripts/lib/client/burst.ts';

const box = CHART_BOX;
const plotWidth = box.width - box.left - box.right;
const plotHeight = box.height - box.top - box.bottom;

test('timeline bars start where the request started and are as long as it took', () => {
  // Three waves of a pool of 2: 5 requests of 100 ms, given out of order.
  const requests: RequestRecord[] = [
    { id: 5, startMs: 0.5, endMs: 300, status: 200 },
    { id: 1, startMs: 0, endMs: 100, status: 200 },
    { id: 3, startMs: 0.3, endMs: 200, status: 200 },
    { id: 2, startMs: 0.2, endMs: 100, status: 200 },
    { id: 4, startMs: 0.4, endMs: 200, status: 503 },
  ];
  const g = timelineGeometry(requests, box);
  assert.equal(g.spanMs, 300);
  assert.equal(g.pxPerMs, plotWidth / 300);
  assert.deepEqual(
    g.bars.map((b) => b.id),
    [1, 2, 3, 4, 5],
    'one row per request, sorted by start',
  );
  for (const bar of g.bars) {
    const r = requests.find((x) => x.id === bar.id)!;
    assert.ok(Math.abs(bar.x - (box.left + r.startMs * g.pxPerMs)) < 1e-9);
    assert.ok(Math.abs(bar.width - (r.endMs - r.startMs) * g.pxPerMs) < 1e-9);
  }
  // Rows stack top to bottom, evenly, within the plot.
  assert.equal(g.bars[0]!.y, box.top);
  assert.ok(Math.abs(g.bars[4]!.y - (box.top + (4 * plotHeight) / 5)) < 1e-9);
  // The last wave's bars reach the right edge of the plot; errors are marked.
  assert.ok(Math.abs(g.bars[4]!.x + g.bars[4]!.width - (box.width - box.right)) < 1);
  assert.deepEqual(
    g.bars.map((b) => b.ok),
    [true, true, true, false, true],
  );
});

test('a bar with Server-Timing is drawn in its parts: waiting light, served dark; the second wave’s D in the queue shows as waiting', () => {
  const D = 3000;
  // A pool of 1, two requests: the second waited D for the thread, then ran D. The third has no header.
  const requests: RequestRecord[] = [
    { id: 1, startMs: 0, endMs: 3010, status: 200, serverTiming: { 'pool-wait': 1, 'pool-run': 3002 } },
    { id: 2, startMs: 0.5, endMs: 6020, status: 200, serverTiming: { 'pool-wait': 3003, 'pool-run': 3001 } },
    { id: 3, startMs: 1, endMs: 3000, status: 200 },
    { id: 4, startMs: 1.5, endMs: 4000, status: 200, serverTiming: { 'db-wait': 900, 'db-query': 3000, libuv: 50 } },
  ];
  assert.deepEqual(servedSpans(requests[1]!), [{ startMs: 6020 - 3001, endMs: 6020 }]);
  assert.equal(servedSpans(requests[2]!), null, 'no header: no parts');
  // In the server's order, the last metric ending at the answer: libuv (work), db-query (work), db-wait before them.
  assert.deepEqual(servedSpans(requests[3]!), [
    { startMs: 950, endMs: 3950 },
    { startMs: 3950, endMs: 4000 },
  ]);
  // More time said than the request took: the parts stop at its start.
  assert.deepEqual(servedSpans({ id: 5, startMs: 10, endMs: 100, status: 200, serverTiming: { 'pool-run': 500 } }), [
    { startMs: 10, endMs: 100 },
  ]);

  const g = timelineGeometry(requests, box);
  const second = g.bars.find((b) => b.id === 2)!;
  const [served] = second.served!;
  assert.ok(Math.abs(served!.x + served!.width - (second.x + second.width)) < 1e-9, 'the served part ends with the bar');
  assert.ok(Math.abs(served!.width - 3001 * g.pxPerMs) < 1e-9);
  const waitedPx = served!.x - second.x;
  assert.ok(Math.abs(waitedPx - (6020 - 0.5 - 3001) * g.pxPerMs) < 1e-9, 'the light part: its D in the queue');
  assert.ok(waitedPx > (D - 10) * g.pxPerMs);
  assert.equal(g.bars.find((b) => b.id === 3)!.served, undefined);

  const m = toMeasurement(
    { label: 'sync', endpoint: '/sync-test', poolSize: 1, delayMs: D, predictedMs: 2 * D },
    { startedAt: 0, totalMs: 6020, connectMs: 1, requests },
  );
  const picture = timelineSvg(m, 'two waves');
  assert.match(picture, /fill-opacity="0\.3"/, 'waiting drawn light');
  assert.match(picture, /light: waiting, dark: served/);
  assert.doesNotMatch(timelineSvg({ ...m, requests: [requests[2]!] }, 'no header'), /fill-opacity|light: waiting/);
});

test('a timeline can span past the data (to show the model) and samples huge bursts', () => {
  const requests = Array.from(
    { length: 2500 },
    (_, i): RequestRecord => ({ id: i + 1, startMs: i / 100, endMs: 3000, status: 200 }),
  );
  const g = timelineGeometry(requests, box, 6000);
  assert.equal(g.spanMs, 6000);
  assert.equal(g.sampledEvery, 3);
  assert.ok(g.bars.length <= MAX_BARS);
  assert.deepEqual(
    g.bars.slice(0, 3).map((b) => b.id),
    [1, 4, 7],
  );
});

test('the timeline SVG draws one rect per request plus the background, and a dashed line per wave', () => {
  const requests: RequestRecord[] = [1, 2, 3, 4].map((id) => ({ id, startMs: 0, endMs: id <= 2 ? 100 : 200, status: 200 }));
  const m = toMeasurement(
    { label: 'sync', endpoint: '/sync-test', poolSize: 2, delayMs: 100, predictedMs: 200 },
    { startedAt: 0, totalMs: 200, connectMs: 1, requests },
  );
  const svg = timelineSvg(m, 'a <title> & more');
  assert.equal((svg.match(/<rect /g) ?? []).length, 1 + 4);
  assert.equal((svg.match(/stroke-dasharray/g) ?? []).length, 2);
  assert.match(svg, /a &lt;title&gt; &amp; more/);
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
});

test('sweep bars are as tall as the measured total; the model mark sits at the predicted height', () => {
  const g = sweepGeometry([
    { label: 'P = 10', measuredMs: 30_100, predictedMs: 30_000 },
    { label: 'P = 40', measuredMs: 9_010, predictedMs: 9_000 },
  ]);
  const bottom = box.height - box.bottom;
  assert.ok(Math.abs(g.bars[0]!.height / g.bars[1]!.height - 30_100 / 9_010) < 1e-9);
  for (const bar of g.bars) assert.ok(Math.abs(bar.y + bar.height - bottom) < 1e-9, 'bars stand on the axis');
  assert.ok(Math.abs(g.bars[1]!.modelY! - (bottom - 9_000 * g.pxPerMs)) < 1e-9);
  assert.ok(g.bars[0]!.x < g.bars[1]!.x);
});

test('a staircase: measured points at their N and total, the model steps up exactly where N passes a multiple of P', () => {
  // P = 2, D = 100: the model is 100, 100, 200, 200, 300, 300 for N = 1…6; measured at N = 1, 2, 4 and 6.
  const model = [1, 2, 3, 4, 5, 6].map((requests) => ({ requests, predictedMs: Math.ceil(requests / 2) * 100 }));
  const points = [1, 2, 4, 6].map((requests) => ({ requests, totalMs: Math.ceil(requests / 2) * 100 + 3 }));
  const g = staircaseGeometry({ name: 'p2', title: 'P = 2', points, model });
  const bottom = box.height - box.bottom;
  for (const p of g.points) assert.ok(Math.abs(p.y - (bottom - p.totalMs * g.pxPerMs)) < 1e-9, `N = ${p.requests}`);
  // x grows with N (doubling N moves it the same distance: a log scale, as find-pool doubles).
  assert.ok(Math.abs(g.xOf(4) - g.xOf(2) - (g.xOf(2) - g.xOf(1))) < 1e-9);
  // The steps' heights are the model's three totals, and each rise sits between N = 2k and 2k + 1.
  const heights = [...new Set(g.steps.map((s) => s.y))];
  assert.deepEqual(
    heights,
    [100, 200, 300].map((ms) => bottom - ms * g.pxPerMs),
  );
  const rises = g.steps.filter((s, i) => i > 0 && s.x === g.steps[i - 1]!.x && s.y !== g.steps[i - 1]!.y).map((s) => s.x);
  assert.deepEqual(rises, [g.xOf(2.5), g.xOf(4.5)]);
});

test('axis ticks are round numbers', () => {
  assert.equal(niceStep(9, 8), 2);
  assert.equal(niceStep(3, 8), 0.5);
  assert.equal(niceStep(30, 6), 5);
});

test('a burst answered by several processes is drawn one colour per process; an overlay draws each measurement in its colour', () => {
  const records: RequestRecord[] = [
    { id: 1, startMs: 0, endMs: 100, status: 200, worker: '11' },
    { id: 2, startMs: 0.1, endMs: 100, status: 200, worker: '22' },
    { id: 3, startMs: 0.2, endMs: 200, status: 200, worker: '11' },
  ];
  const m = toMeasurement(
    { label: 'k2', endpoint: '/sync-test', poolSize: 1, delayMs: 100, predictedMs: 200 },
    { startedAt: 0, totalMs: 200, connectMs: 1, requests: records },
  );
  assert.deepEqual(m.perWorker, { 11: 2, 22: 1 });
  const svg = timelineSvg(m, 'k2');
  const fills = [
    ...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill="(#[0-9a-f]+)"><title>#(\d)/g),
  ].map((x) => [x[2], x[1]]);
  assert.equal(fills.length, 3);
  assert.equal(fills[0]![1], fills[2]![1], 'requests 1 and 3: the same process, the same colour');
  assert.notEqual(fills[0]![1], fills[1]![1], 'request 2: another process, another colour');
  assert.match(svg, /PID 11: 2/);

  const probe = toMeasurement(
    { label: 'k2-probe-health', endpoint: '/health', poolSize: null, delayMs: 0, predictedMs: null },
    { startedAt: 0, totalMs: 150, connectMs: 0, requests: [{ id: 1, startMs: 50, endMs: 150, status: 200 }] },
  );
  const g = timelineGeometry([
    ...m.requests.map((r) => ({ ...r, series: 0 })),
    ...probe.requests.map((r) => ({ ...r, series: 1 })),
  ]);
  assert.deepEqual(
    g.bars.map((b) => b.series),
    [0, 0, 0, 1],
    'sorted by start, each keeps its series',
  );
  const overlay = overlaySvg([m, probe], 'burst and probe');
  assert.equal((overlay.match(/<title>#/g) ?? []).length, 4);
  assert.match(overlay, /k2 \(3\).*k2-probe-health \(1\)/s);
});
