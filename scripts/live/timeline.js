// @ts-check
/**
 * The timeline: one bar per request, in order of id, from when it was sent to when its answer came, the model's wave
 * boundaries behind them (dashed) and the time axis. Each bar is the element outside checks read: `data-request-id`
 * from the start, `data-end-ms` (its endMs) and `data-status` (its HTTP status, 0 for none) once answered.
 */
import { elements } from './elements.js';
import { geometry, niceStep, svgElement, text } from './svg.js';

/** @typedef {import('./state.js').View} View */
/** @typedef {import('./state.js').RequestRecord} RequestRecord */
/** @typedef {import('./svg.js').Geometry} Geometry */

/** Bars answered by different processes, where a scenario colours by process (the charts' colours). */
const PROCESS_COLOURS = ['#2563eb', '#16a34a', '#9333ea', '#db2777', '#0891b2', '#ca8a04', '#4b5563', '#ea580c'];

/** @param {View} view */
export function geometryOf(view) {
  return geometry(view.n, elements.timeline.clientWidth);
}

/** One rect per request, each pending (no data-end-ms) until its answer comes; the answers so far closed again. @param {View} view */
export function buildTimeline(view) {
  view.bars = new Map();
  const g = geometryOf(view);
  elements.timeline.setAttribute('viewBox', `0 0 ${g.width} ${g.height}`);
  elements.timeline.setAttribute('height', String(g.height));
  const axis = svgElement('g', { class: 'axis' });
  const boundaries = svgElement('g', { class: 'boundaries' });
  const rows = svgElement('g', { class: 'bars' });
  for (let id = 1; id <= view.n; id++) {
    const rect = svgElement('rect', {
      'data-request-id': String(id),
      y: String(g.top + (id - 1) * g.rowHeight),
      height: String(Math.max(0.4, g.rowHeight - (g.rowHeight > 3 ? 1 : 0))),
      x: String(g.left),
      width: '0',
    });
    rows.append(rect);
    view.bars.set(id, rect);
  }
  elements.timelineBody.replaceChildren(axis, rows, boundaries);
  for (const record of view.ends.values()) closeBar(view, record);
}

/** The answer to one request: its bar closes where it ended, coloured by status (and by process, where the scenario says). @param {View} view @param {RequestRecord} record */
export function closeBar(view, record) {
  const rect = view.bars.get(record.id);
  if (!rect) return;
  rect.setAttribute('data-end-ms', String(record.endMs));
  rect.setAttribute('data-status', String(record.status ?? 0));
  const ok = record.status !== null && record.status >= 200 && record.status < 300;
  rect.classList.toggle('error', !ok);
  if (ok && record.worker && view.scenario?.colourBy === 'process') rect.style.fill = processColour(view, record.worker);
  const title = svgElement('title', {});
  title.textContent = `#${record.id}: ${record.status ?? record.error} after ${(record.endMs - record.startMs).toFixed(0)} ms${record.worker ? ` (process ${record.worker})` : ''}`;
  rect.replaceChildren(title);
}

/** @param {View} view @param {string} worker */
function processColour(view, worker) {
  let colour = view.colours.get(worker);
  if (colour === undefined) {
    colour = PROCESS_COLOURS[view.colours.size % PROCESS_COLOURS.length] ?? '#2563eb';
    view.colours.set(worker, colour);
  }
  return colour;
}

/**
 * Every bar to `now` (an open one grows; once the burst has ended, one never answered stays a point), the axis and
 * the model's boundaries.
 * @param {View} view @param {Geometry} g @param {number} spanMs @param {number} now
 */
export function drawTimeline(view, g, spanMs, now) {
  const x = (/** @type {number} */ ms) => g.left + (ms / spanMs) * g.plotWidth;
  for (const [id, rect] of view.bars) {
    const start = view.starts.get(id);
    if (start === undefined) continue;
    const end = view.ends.get(id)?.endMs ?? (view.result ? start : now);
    rect.setAttribute('x', String(x(start)));
    rect.setAttribute('width', String(Math.max(0, x(end) - x(start))));
  }
  const [axis, , boundaries] = /** @type {SVGGElement[]} */ ([...elements.timelineBody.children]);
  if (!axis || !boundaries) return;
  const step = niceStep(spanMs / 8);
  const parts = [];
  for (let t = 0; t <= spanMs; t += step) {
    parts.push(
      svgElement('line', {
        x1: String(x(t)),
        x2: String(x(t)),
        y1: String(g.top - 4),
        y2: String(g.height - g.bottom),
        stroke: '#e5e7eb',
      }),
      text(x(t), g.height - 8, t >= 1000 ? `${(t / 1000).toFixed(step >= 1000 ? 0 : 1)} s` : `${t.toFixed(0)} ms`, 'middle'),
    );
  }
  axis.replaceChildren(...parts);
  const due = view.model.boundariesMs;
  boundaries.replaceChildren(
    ...due.flatMap((ms, i) => [
      svgElement('line', {
        class: 'boundary',
        'data-boundary-ms': String(ms),
        x1: String(x(ms)),
        x2: String(x(ms)),
        y1: String(g.top - 4),
        y2: String(g.height - g.bottom),
      }),
      text(x(ms) - 4, g.top - 10, due.length > 12 && i % Math.ceil(due.length / 12) !== 0 ? '' : `wave ${i + 1}`, 'end'),
    ]),
  );
}
