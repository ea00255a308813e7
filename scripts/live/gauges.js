// @ts-check
/**
 * The server's gauges, on the bars' clock, the ones the scenario declares: counts above, times below. The pools'
 * are exact: every change the server recorded for a task (queued, started, ended), so a gauge steps where the bars
 * end and ends where the server is. Requests in flight come from the burst's own records. How late /stats answered
 * (the event loop's lag; where it was very late, a shaded gap) and a file read's time are sampled: they are what a
 * client sees of a blocked loop, not counts. A recorded burst from before the exact gauges is drawn from its samples.
 */
import { elements } from './elements.js';
import { svgElement, text } from './svg.js';

/** @typedef {import('./state.js').View} View */
/** @typedef {import('./state.js').GaugeName} GaugeName */
/** @typedef {import('./state.js').Sample} Sample */
/** @typedef {import('./svg.js').Geometry} Geometry */
/** @typedef {{ atMs: number, value: number }} Point */
/** A gauge's values: each holds from its point on, up to `untilMs` (how far it is known). @typedef {{ points: Point[], untilMs: number }} Series */

/** How each gauge is drawn: its words, its colour, and its panel (0: how many, 1: ms). */
const GAUGES = /** @type {const} */ ({
  busy: { label: 'pool threads busy', colour: '#16a34a', panel: 0 },
  queued: { label: 'tasks queued for a thread', colour: '#f59e0b', panel: 0 },
  dbBusy: { label: 'database connections in use', colour: '#9333ea', panel: 0 },
  dbWaiting: { label: 'queries waiting for a connection', colour: '#db2777', panel: 0 },
  inFlight: { label: 'requests in flight', colour: '#2563eb', panel: 0 },
  statsMs: { label: '/stats answered after, ms (the event loop’s lag)', colour: '#6b7280', panel: 1 },
  fileReadMs: { label: 'a file read took, ms (also on libuv’s threads)', colour: '#0891b2', panel: 1 },
});
/** Where a recording names no scenario: what its samples hold. */
const RECORDED = /** @type {GaugeName[]} */ (['busy', 'queued', 'inFlight', 'statsMs']);
/** A /stats answer this much later than asked means the server's event loop could not answer: shaded as a gap. */
const GAP_MS = 300;
const PANEL_HEIGHT = 90;
const PANEL_GAP = 18;

/** The gauges' values as known at `now` (ms on the burst's clock). @param {View} view @param {GaugeName} name @param {number} now @returns {Series} */
export function seriesOf(view, name, now) {
  const samples = view.samples.filter((s) => s.atMs <= now + 1);
  const sampled = (/** @type {(s: Sample) => number | undefined} */ read) => {
    const points = samples.flatMap((s) => {
      const value = read(s);
      return value === undefined ? [] : [{ atMs: s.atMs, value }];
    });
    return { points, untilMs: points.at(-1)?.atMs ?? 0 };
  };
  const exact = (/** @type {'pool' | 'db'} */ link, /** @type {'busy' | 'queued'} */ count) => {
    const pool = view.pool;
    if (!pool) return null;
    const until = view.result ? Number.POSITIVE_INFINITY : Math.min(now, pool.untilMs);
    const points = [{ atMs: 0, value: 0 }];
    for (const step of pool.steps) {
      if (step.link === link && step.atMs <= until) points.push({ atMs: Math.max(0, step.atMs), value: step[count] });
    }
    return { points, untilMs: view.result ? Math.max(now, points.at(-1)?.atMs ?? 0) : Math.min(now, pool.untilMs) };
  };
  switch (name) {
    case 'busy':
      return exact('pool', 'busy') ?? sampled((s) => s.busy);
    case 'queued':
      return exact('pool', 'queued') ?? sampled((s) => s.queued);
    case 'dbBusy':
      return exact('db', 'busy') ?? sampled((s) => s.dbBusy);
    case 'dbWaiting':
      return exact('db', 'queued') ?? sampled((s) => s.dbWaiting);
    case 'inFlight':
      return inFlight(view, now);
    case 'statsMs':
      return sampled((s) => s.statsMs);
    case 'fileReadMs':
      return sampled((s) => s.fileReadMs);
  }
}

/** Requests sent and not yet answered, from the burst's own records: one step per start and per answer. @param {View} view @param {number} now @returns {Series} */
function inFlight(view, now) {
  /** @type {[number, number][]} */
  const changes = [];
  for (const [id, start] of view.starts) {
    if (start > now) continue;
    changes.push([start, 1]);
    const end = view.ends.get(id)?.endMs;
    if (end !== undefined && end <= now) changes.push([end, -1]);
  }
  changes.sort((a, b) => a[0] - b[0]);
  let value = 0;
  const points = [{ atMs: 0, value: 0 }];
  for (const [atMs, change] of changes) {
    value += change;
    points.push({ atMs, value });
  }
  return { points, untilMs: now };
}

/** @param {View} view @param {Geometry} g @param {number} spanMs @param {number} now */
export function drawGauges(view, g, spanMs, now) {
  const names = view.scenario?.gauges ?? RECORDED;
  const shown = names.map((name) => ({ name, ...GAUGES[name], series: seriesOf(view, name, now) }));
  const height = g.top + 2 * PANEL_HEIGHT + PANEL_GAP + g.bottom;
  elements.gauges.setAttribute('viewBox', `0 0 ${g.width} ${height}`);
  elements.gauges.setAttribute('height', String(height));
  const x = (/** @type {number} */ ms) => g.left + (Math.min(ms, spanMs) / spanMs) * g.plotWidth;
  /** @type {Element[]} */
  const parts = [];
  const late = view.samples.filter((s) => s.atMs <= now + 1 && s.statsMs >= GAP_MS);
  for (const s of late) {
    parts.push(
      svgElement('rect', {
        class: 'gap',
        x: String(x(s.atMs - s.statsMs)),
        width: String(x(s.atMs) - x(s.atMs - s.statsMs)),
        y: String(g.top),
        height: String(2 * PANEL_HEIGHT + PANEL_GAP),
      }),
    );
  }
  if (late.length > 0)
    parts.push(text(g.left + 4, g.top - 8, 'shaded: the server could not answer /stats (its event loop was busy)', 'start'));
  for (const panel of [0, 1]) {
    const inPanel = shown.filter((s) => s.panel === panel);
    const top = g.top + panel * (PANEL_HEIGHT + PANEL_GAP);
    const most = Math.max(1, ...inPanel.flatMap((s) => s.series.points.map((p) => p.value)));
    const y = (/** @type {number} */ value) => top + PANEL_HEIGHT - (value / most) * PANEL_HEIGHT;
    parts.push(
      svgElement('line', {
        x1: String(g.left),
        x2: String(g.width - g.right),
        y1: String(top + PANEL_HEIGHT),
        y2: String(top + PANEL_HEIGHT),
        stroke: '#d1d5db',
      }),
      text(g.left - 6, top + 8, String(Math.round(most)), 'end'),
      text(g.left - 6, top + PANEL_HEIGHT, '0', 'end'),
      text(g.width - g.right, top + 10, panel === 0 ? 'how many' : 'ms', 'end'),
    );
    for (const s of inPanel) {
      const { points, untilMs } = s.series;
      if (points.length === 0) continue;
      let path = '';
      for (const [i, p] of points.entries())
        path += `${i === 0 ? 'M' : ' H'}${x(p.atMs)} ${i === 0 ? y(p.value) : `V${y(p.value)}`}`;
      path += ` H${x(Math.max(untilMs, points.at(-1)?.atMs ?? 0))}`;
      parts.push(svgElement('path', { d: path, fill: 'none', stroke: s.colour, 'stroke-width': '2', 'data-gauge': s.name }));
    }
  }
  elements.gaugesBody.replaceChildren(...parts);
  elements.gaugeLegend.replaceChildren(
    ...shown.flatMap((s) => {
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = s.colour;
      const value = s.series.points.at(-1)?.value;
      const words = document.createElement('span');
      words.dataset.gauge = s.name;
      words.textContent = `${s.label}${value === undefined ? '' : `: ${Math.round(value)}`}`;
      return [swatch, words];
    }),
  );
}
