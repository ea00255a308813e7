// @ts-check
/**
 * The timeline: one bar per request, in order of id, from when it was sent to when its answer came, the model's wave
 * boundaries behind them (dashed) and the time axis. Each bar is the element outside checks read: `data-request-id`
 * from the start, `data-end-ms` (its endMs) and `data-status` (its HTTP status, 0 for none) once answered. Where the
 * server said where the request's time went (its Server-Timing), the bar is drawn in its segments: light while it
 * waited (in transit, queued for a thread or a connection), dark while it was served, which ends with its answer.
 */
import { elements } from './elements.js';
import { geometry, niceStep, svgElement, text } from './svg.js';

/** @typedef {import('./state.js').View} View */
/** @typedef {import('./state.js').RequestRecord} RequestRecord */
/** @typedef {import('./svg.js').Geometry} Geometry */

/** Bars answered by different processes, where a scenario colours by process (the charts' colours). */
const PROCESS_COLOURS = ['#2563eb', '#16a34a', '#9333ea', '#db2777', '#0891b2', '#ca8a04', '#4b5563', '#ea580c'];

/** The plot's geometry for n bars at the timeline's width now (read once per picture and per resize: reading it lays the page out). @param {number} n */
export function geometryOf(n) {
  return geometry(n, elements.timeline.clientWidth);
}

/** One rect per request, each pending (no data-end-ms) until its answer comes; the answers so far closed again. @param {View} view */
export function buildTimeline(view) {
  view.bars = new Map();
  const g = view.geometry;
  elements.timeline.setAttribute('viewBox', `0 0 ${g.width} ${g.height}`);
  elements.timeline.setAttribute('height', String(g.height));
  const axis = svgElement('g', { class: 'axis' });
  const boundaries = svgElement('g', { class: 'boundaries' });
  const rows = svgElement('g', { class: 'bars' });
  const served = svgElement('g', { class: 'served' });
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
  view.served = new Map();
  elements.timelineBody.replaceChildren(axis, rows, served, boundaries);
  for (const record of view.ends.values()) closeBar(view, record);
}

/** The answer to one request: its bar closes where it ended, coloured by status (and by process, where the scenario says). @param {View} view @param {RequestRecord} record */
export function closeBar(view, record) {
  const rect = view.bars.get(record.id);
  if (!rect) return;
  rect.setAttribute('data-end-ms', String(record.endMs));
  rect.removeAttribute('data-drawn'); // drawn to its end on the next frame
  rect.setAttribute('data-status', String(record.status ?? 0));
  const ok = record.status !== null && record.status >= 200 && record.status < 300;
  rect.classList.toggle('error', !ok);
  const colour = ok && record.worker && view.scenario?.colourBy === 'process' ? processColour(view, record.worker) : null;
  const { servedMs, waitedMs } = segmentsOf(record);
  const title = svgElement('title', {});
  title.textContent = `#${record.id}: ${record.status ?? record.error} after ${(record.endMs - record.startMs).toFixed(0)} ms${record.worker ? ` (process ${record.worker})` : ''}${servedMs === null ? '' : `; the server: queued ${waitedMs.toFixed(0)} ms, served ${servedMs.toFixed(0)} ms`}`;
  rect.replaceChildren(title);
  rect.classList.toggle('segmented', servedMs !== null);
  if (servedMs === null) {
    if (colour) rect.style.fill = colour;
    return;
  }
  const segment = view.served.get(record.id) ?? svgElement('rect', { class: 'served', 'data-served-ms': String(servedMs) });
  segment.setAttribute('y', rect.getAttribute('y') ?? '0');
  segment.setAttribute('height', rect.getAttribute('height') ?? '0');
  if (colour) segment.style.fill = colour;
  segment.replaceChildren(title.cloneNode(true));
  view.served.set(record.id, segment);
  elements.timelineBody.querySelector('g.served')?.append(segment);
}

/**
 * Where the server says a request's time went (Server-Timing, parsed into its record): metrics whose names end in
 * -wait were time queued for a resource, the others work; null where it said nothing.
 * @param {RequestRecord} record
 */
function segmentsOf(record) {
  const metrics = Object.entries(record.serverTiming ?? {});
  if (metrics.length === 0) return { servedMs: null, waitedMs: 0 };
  const sum = (/** @type {[string, number][]} */ list) => list.reduce((total, [, ms]) => total + ms, 0);
  return {
    servedMs: Math.min(record.endMs - record.startMs, sum(metrics.filter(([name]) => !name.endsWith('-wait')))),
    waitedMs: sum(metrics.filter(([name]) => name.endsWith('-wait'))),
  };
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
 * Every bar to `now` (an open one grows; once the burst has ended, one never answered stays a point); the axis and
 * the model's boundaries where the span changed.
 * @param {View} view @param {number} spanMs @param {number} now
 */
export function drawTimeline(view, spanMs, now) {
  const g = view.geometry;
  const x = (/** @type {number} */ ms) => g.left + (ms / spanMs) * g.plotWidth;
  for (const [id, rect] of view.bars) {
    const start = view.starts.get(id);
    if (start === undefined) continue;
    const answered = view.ends.get(id);
    // An answered bar is drawn again only where the span changed.
    if (answered && view.axisSpanMs === spanMs && rect.hasAttribute('data-drawn')) continue;
    const end = answered?.endMs ?? (view.result ? start : now);
    rect.setAttribute('x', String(x(start)));
    rect.setAttribute('width', String(Math.max(0, x(end) - x(start))));
    rect.toggleAttribute('data-drawn', answered !== undefined);
    // The served part of an answered bar: its last servedMs, up to its answer.
    const segment = view.served.get(id);
    if (answered && segment) {
      const from = answered.endMs - Number(segment.getAttribute('data-served-ms'));
      segment.setAttribute('x', String(x(from)));
      segment.setAttribute('width', String(Math.max(0, x(answered.endMs) - x(from))));
    }
  }
  if (view.axisSpanMs === spanMs) return;
  view.axisSpanMs = spanMs;
  const [axis, , , boundaries] = /** @type {SVGGElement[]} */ ([...elements.timelineBody.children]);
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
