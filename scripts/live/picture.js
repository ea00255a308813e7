// @ts-check
/**
 * The picture of one burst (the state's `view`): started when a burst (or replay) begins, drawn on every animation
 * frame while it runs, and finished from its measurement: every bar as recorded, the table, `window.liveResult`
 * for outside checks, then the phase `done`.
 */
import { elements } from './elements.js';
import { enter, page, sayError } from './state.js';
import { buildTimeline, closeBar, drawTimeline, geometryOf } from './timeline.js';
import { drawGauges } from './gauges.js';
import { seconds } from './svg.js';

/** @typedef {import('./state.js').View} View */
/** @typedef {import('./state.js').LiveMeasurement} LiveMeasurement */

/**
 * A new picture: its bars, each pending until answered.
 * @param {Omit<View, 'starts' | 'ends' | 'bars' | 'served' | 'colours' | 'samples' | 'pool' | 'geometry' | 'axisSpanMs' | 'gaugesDrawnAt' | 'startedAtWall' | 'result'>} fields
 * @returns {View}
 */
export function startView(fields) {
  cancelAnimationFrame(page.frame);
  const view = {
    ...fields,
    starts: new Map(),
    ends: new Map(),
    bars: new Map(),
    served: new Map(),
    colours: new Map(),
    samples: [],
    pool: null,
    geometry: geometryOf(fields.n),
    axisSpanMs: 0,
    gaugesDrawnAt: Number.NEGATIVE_INFINITY,
    startedAtWall: null,
    result: null,
  };
  page.view = view;
  elements.summary.hidden = true;
  sayError('');
  elements.title.textContent = `${fields.label} · ${fields.endpoint}`;
  buildTimeline(view);
  page.frame = requestAnimationFrame(draw);
  return view;
}

/** No picture: what a new Fire begins from. */
export function clearView() {
  cancelAnimationFrame(page.frame);
  page.view = null;
  elements.timelineBody.replaceChildren();
  elements.gaugesBody.replaceChildren();
  elements.summary.hidden = true;
  elements.legend.textContent = '';
  elements.gaugeLegend.textContent = '';
}

/** Where the burst is now, ms since its first request: the script's clock for a live burst, the replay's own. @param {View} view */
export function nowMs(view) {
  if (view.replay) return (performance.now() - view.replay.began) * view.replay.speed;
  if (view.result) return view.result.totalMs;
  return view.startedAtWall === null ? 0 : Date.now() - view.startedAtWall;
}

/** How often the gauges and the legend are drawn again while a burst runs: their data comes in about as often. */
const GAUGES_EVERY_MS = 100;

/**
 * One frame: the bars at now; the gauges and the legend every GAUGES_EVERY_MS (and once more at the end); the next
 * frame is asked for while the burst runs. A frame redraws only what moved, so that the browser, on the same cores
 * as the server and the script, takes as little from them as it can.
 */
export function draw() {
  const view = page.view;
  if (!view) return;
  view.replay?.advance();
  const now = nowMs(view);
  const lastEnd = Math.max(0, ...[...view.ends.values()].map((r) => r.endMs));
  const lastStep = view.result ? Math.max(0, ...(view.pool?.steps ?? []).map((s) => s.atMs)) : 0;
  // The model's span, grown in tenths where the burst outlasts it: the axis is redrawn when it changes, not each frame.
  const planned = Math.max(1, (view.model.predictedMs ?? 0) * 1.08);
  const needed = Math.max(now, lastEnd, lastStep) * 1.04;
  const spanMs = needed <= planned ? planned : Math.ceil(needed / (planned / 10)) * (planned / 10);
  drawTimeline(view, spanMs, now);
  if (view.result || performance.now() - view.gaugesDrawnAt >= GAUGES_EVERY_MS) {
    view.gaugesDrawnAt = performance.now();
    drawGauges(view, view.geometry, spanMs, view.result ? Math.max(now, lastStep) : now);
    const model = `model ${seconds(view.model.predictedMs)}: ${view.model.formula}`;
    elements.legend.textContent = `${view.ends.size} of ${view.n} answered${view.result ? '' : ` · ${(now / 1000).toFixed(1)} s`} · ${model}`;
  }
  if (!view.result) page.frame = requestAnimationFrame(draw);
}

/** The window changed size: the bars rebuilt for its width. */
export function redraw() {
  const view = page.view;
  if (!view) return;
  view.geometry = geometryOf(view.n);
  view.axisSpanMs = 0;
  buildTimeline(view);
  if (view.result) draw();
}

/** The burst ended: every bar as recorded, the table, the result for outside checks, then the phase. @param {LiveMeasurement} result */
export function finish(result) {
  const view = page.view;
  if (!view) return;
  cancelAnimationFrame(page.frame);
  view.result = result;
  for (const record of result.requests) {
    view.ends.set(record.id, record);
    view.starts.set(record.id, record.startMs);
    closeBar(view, record);
  }
  view.samples = result.samples ?? view.samples;
  if (result.poolSteps) view.pool = { steps: result.poolSteps, untilMs: Number.POSITIVE_INFINITY };
  draw();
  fillTable(result);
  window.liveResult = result;
  enter({ name: 'done', saving: false });
}

/** @param {LiveMeasurement} m */
function fillTable(m) {
  /** @type {Record<string, string>} */
  const cells = {
    total: `${seconds(m.totalMs)}${m.interrupted ? ' (stopped)' : ''}`,
    model: seconds(m.predictedMs),
    ok: String(m.ok),
    errors: String(m.errors),
    p50: `${m.latencyMs.p50.toFixed(0)} ms`,
    p99: `${m.latencyMs.p99.toFixed(0)} ms`,
    waves: m.waves ? m.waves.join(' + ') : '–',
  };
  for (const [name, value] of Object.entries(cells)) {
    const cell = elements.summary.querySelector(`[data-cell="${name}"]`);
    if (cell) cell.textContent = value;
  }
  elements.summary.hidden = false;
}

/** The picture stays as it is: nothing more will come for it (the burst failed). */
export function clearAnimation() {
  cancelAnimationFrame(page.frame);
}
