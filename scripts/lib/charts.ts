/**
 * Pictures as plain SVG strings, no dependencies: they open in any browser and render on Git hosts.
 *
 *  - timelineSvg: one horizontal bar per request, from when it was sent to when it was answered, sorted by
 *    start. A burst that waits together is one block; a pool of 40 serving 100 is three stacked blocks.
 *  - sweepSvg: measured total beside the model's prediction for each setting of a sweep.
 *
 * The geometry (where each bar goes) is computed by separate functions, so tests can check it against the
 * data without parsing SVG.
 */
import { join } from 'node:path';
import type { ChartFiles, Measurement, RequestRecord, ResultsFile, SweepPoint } from './results.ts';
import { writeAtomically } from './results-file.ts';
import { seconds } from './table.ts';

export interface Box {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export const CHART_BOX: Box = { width: 860, height: 430, left: 64, right: 24, top: 58, bottom: 48 };

/** Timelines draw at most this many bars; beyond it every k-th request (in start order) is drawn. */
export const MAX_BARS = 1000;

export interface Bar {
  id: number;
  x: number;
  y: number;
  width: number;
  height: number;
  ok: boolean;
  /** Which series of the picture the request belongs to (a burst and its probes, or a worker): 0 if one. */
  series: number;
}

/** A request with the series it is drawn in. */
export type SeriesRecord = RequestRecord & { series?: number };

export interface TimelineGeometry {
  bars: Bar[];
  /** Pixels per ms along x; x = box.left + ms * pxPerMs. */
  pxPerMs: number;
  /** The time the axis spans, ms. */
  spanMs: number;
  /** 1 when every request is drawn, k when every k-th is. */
  sampledEvery: number;
}

/** Where each request's bar goes: x from its start, width its duration, one row per request by start. */
export function timelineGeometry(requests: readonly SeriesRecord[], box: Box = CHART_BOX, minSpanMs = 0): TimelineGeometry {
  const sorted = [...requests].sort((a, b) => a.startMs - b.startMs || a.id - b.id);
  const sampledEvery = Math.max(1, Math.ceil(sorted.length / MAX_BARS));
  const drawn = sorted.filter((_, i) => i % sampledEvery === 0);
  const spanMs = Math.max(minSpanMs, ...sorted.map((r) => r.endMs), 1);
  const plotWidth = box.width - box.left - box.right;
  const plotHeight = box.height - box.top - box.bottom;
  const pxPerMs = plotWidth / spanMs;
  const rowHeight = plotHeight / Math.max(drawn.length, 1);
  const bars = drawn.map((r, row) => ({
    id: r.id,
    x: box.left + r.startMs * pxPerMs,
    y: box.top + row * rowHeight,
    width: Math.max((r.endMs - r.startMs) * pxPerMs, 0.5),
    height: Math.max(rowHeight * 0.8, 0.3),
    ok: r.status !== null && r.status >= 200 && r.status < 300,
    series: r.series ?? 0,
  }));
  return { bars, pxPerMs, spanMs, sampledEvery };
}

/** Round tick spacing (1, 2 or 5 × 10^k) giving about `count` ticks over `span`. */
export function niceStep(span: number, count = 8): number {
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
}

const COLORS = { ok: '#2563eb', error: '#dc2626', model: '#f59e0b', grid: '#e5e7eb', text: '#111827', muted: '#6b7280' };

/** Series colours: the first is the burst's; errors are always red. */
const SERIES_COLORS = ['#2563eb', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#db2777', '#65a30d', '#4f46e5'];

/**
 * One burst. Where the answers came from several server processes (X-Worker, server.ts --workers K), each
 * process has its colour: the picture shows who took which requests.
 */
export function timelineSvg(m: Measurement, title: string): string {
  // The requests drawn are one burst's (the median run's): the legend counts those, not all repeats'.
  const drawn: Record<string, number> = {};
  for (const r of m.requests) if (r.worker !== undefined) drawn[r.worker] = (drawn[r.worker] ?? 0) + 1;
  const workers = Object.keys(drawn);
  if (workers.length < 2) return drawTimeline(title, m, m.requests, []);
  const series = new Map(workers.map((pid, i) => [pid, i]));
  const requests = m.requests.map((r) => ({ ...r, series: r.worker === undefined ? 0 : (series.get(r.worker) ?? 0) }));
  return drawTimeline(
    title,
    m,
    requests,
    workers.map((pid) => `PID ${pid}: ${drawn[pid]}`),
  );
}

/**
 * Several measurements of one run on one clock, each in its colour: a burst and the probes fired beside it
 * (offsets are all from the burst's start), so the picture shows what waited behind what.
 */
export function overlaySvg(measurements: readonly Measurement[], title: string): string {
  const [main] = measurements;
  if (!main) throw new Error('an overlay needs at least one measurement');
  const requests = measurements.flatMap((m, series) => m.requests.map((r) => ({ ...r, series })));
  return drawTimeline(
    title,
    main,
    requests,
    measurements.map((m) => `${m.label} (${m.concurrency})`),
  );
}

function drawTimeline(title: string, m: Measurement, requests: readonly SeriesRecord[], legend: string[]): string {
  const box = legend.length > 0 ? { ...CHART_BOX, top: CHART_BOX.top + 18 } : CHART_BOX;
  // Where the model says the waves end: every D, or every waveMs where a wave lasts otherwise (CPU work on
  // fewer cores than threads); up to the model's total, or the total the split that happened implies.
  const fromSplit = m.predictedFromSplitMs ?? null;
  const lastWave = Math.max(m.predictedMs ?? 0, fromSplit ?? 0);
  const waveMs = m.waveMs ?? m.delayMs;
  const geometry = timelineGeometry(requests, box, Math.max(m.totalMs, lastWave, ...requests.map((r) => r.endMs)) * 1.02);
  const parts: string[] = [];
  const bottom = box.height - box.bottom;
  const step = niceStep(geometry.spanMs / 1000) * 1000;
  for (let t = 0; t <= geometry.spanMs; t += step) {
    const x = box.left + t * geometry.pxPerMs;
    parts.push(line(x, box.top, x, bottom, COLORS.grid), text(x, bottom + 18, tick(t, step), 'middle', COLORS.muted));
  }
  // The model's waves: a dashed line at each multiple of D up to the prediction.
  if (lastWave > 0 && waveMs > 0) {
    for (let t = waveMs; t <= lastWave + 1; t += waveMs) {
      const x = box.left + t * geometry.pxPerMs;
      parts.push(line(x, box.top, x, bottom, COLORS.model, '5 4'));
    }
  }
  for (const bar of geometry.bars) {
    const fill = bar.ok ? SERIES_COLORS[bar.series % SERIES_COLORS.length] : COLORS.error;
    parts.push(
      `<rect x="${f(bar.x)}" y="${f(bar.y)}" width="${f(bar.width)}" height="${f(bar.height)}" fill="${fill}"><title>#${bar.id}</title></rect>`,
    );
  }
  let x = box.left;
  for (const [i, name] of legend.entries()) {
    parts.push(
      `<rect x="${f(x)}" y="50" width="10" height="10" fill="${SERIES_COLORS[i % SERIES_COLORS.length]}"/>`,
      text(x + 14, 59, name, 'start', COLORS.muted),
    );
    x += 14 + name.length * 6.5 + 16;
  }
  const sampled = geometry.sampledEvery > 1 ? ` (every ${geometry.sampledEvery}th of ${requests.length} drawn)` : '';
  parts.push(
    text(box.left, 22, title, 'start', COLORS.text, 15, 'bold'),
    text(
      box.left,
      40,
      `total ${trim(m.totalMs)} ms · model ${m.predictedMs === null ? '–' : `${trim(m.predictedMs)} ms`}` +
        `${fromSplit === null ? '' : `, ${trim(fromSplit)} ms from this split`}${lastWave > 0 ? ` (dashed: the waves)` : ''} · ${m.ok} ok, ${m.errors} errors`,
      'start',
      COLORS.muted,
    ),
    text(
      box.left + (box.width - box.left - box.right) / 2,
      box.height - 10,
      'time since the first request was sent',
      'middle',
      COLORS.muted,
    ),
    `<text x="18" y="${f((box.top + bottom) / 2)}" transform="rotate(-90 18 ${f((box.top + bottom) / 2)})" text-anchor="middle" font-size="12" fill="${COLORS.muted}">requests, by start${sampled}</text>`,
  );
  return svg(box, parts);
}

export interface SweepGeometry {
  bars: { label: string; x: number; width: number; y: number; height: number; modelY: number | null }[];
  /** Pixels per ms along y; y = bottom - ms * pxPerMs. */
  pxPerMs: number;
  maxMs: number;
}

/** One bar per point, height the measured total; the model's figure as a mark at its height. */
export function sweepGeometry(points: readonly SweepPoint[], box: Box = CHART_BOX): SweepGeometry {
  const maxMs = Math.max(...points.flatMap((p) => [p.measuredMs, p.predictedMs ?? 0]), 1) * 1.1;
  const plotWidth = box.width - box.left - box.right;
  const bottom = box.height - box.bottom;
  const pxPerMs = (bottom - box.top) / maxMs;
  const slot = plotWidth / Math.max(points.length, 1);
  const bars = points.map((p, i) => ({
    label: p.label,
    x: box.left + i * slot + slot * 0.2,
    width: slot * 0.6,
    y: bottom - p.measuredMs * pxPerMs,
    height: p.measuredMs * pxPerMs,
    modelY: p.predictedMs === null ? null : bottom - p.predictedMs * pxPerMs,
  }));
  return { bars, pxPerMs, maxMs };
}

export function sweepSvg(points: readonly SweepPoint[], title: string, xLabel: string): string {
  const box = CHART_BOX;
  const geometry = sweepGeometry(points, box);
  const bottom = box.height - box.bottom;
  const parts: string[] = [];
  const step = niceStep(geometry.maxMs / 1000, 6) * 1000;
  for (let t = 0; t <= geometry.maxMs; t += step) {
    const y = bottom - t * geometry.pxPerMs;
    parts.push(
      line(box.left, y, box.width - box.right, y, COLORS.grid),
      text(box.left - 8, y + 4, tick(t, step), 'end', COLORS.muted),
    );
  }
  geometry.bars.forEach((bar, i) => {
    const point = points[i]!;
    parts.push(
      `<rect x="${f(bar.x)}" y="${f(bar.y)}" width="${f(bar.width)}" height="${f(bar.height)}" fill="${COLORS.ok}"><title>${escapeXml(bar.label)}: ${trim(point.measuredMs)} ms</title></rect>`,
      text(bar.x + bar.width / 2, bar.y - 6, `${(point.measuredMs / 1000).toFixed(2)} s`, 'middle', COLORS.text),
      text(bar.x + bar.width / 2, bottom + 18, bar.label, 'middle', COLORS.muted),
    );
    if (bar.modelY !== null)
      parts.push(line(bar.x - 6, bar.modelY, bar.x + bar.width + 6, bar.modelY, COLORS.model, undefined, 3));
  });
  parts.push(
    text(box.left, 22, title, 'start', COLORS.text, 15, 'bold'),
    text(box.left, 40, 'bars: measured total · orange: the model ceil(N / P) · D', 'start', COLORS.muted),
    text(box.left + (box.width - box.left - box.right) / 2, box.height - 10, xLabel, 'middle', COLORS.muted),
  );
  return svg(box, parts);
}

/** Every picture of one results file, by file name: a timeline per measurement, a sweep chart if it has one. */
export function renderCharts(results: ResultsFile): { files: ChartFiles; svgs: Map<string, string> } {
  const svgs = new Map<string, string>();
  const files: ChartFiles = { timelines: {} };
  for (const m of results.measurements) {
    const file = `${results.experiment}-${slug(m.label)}.svg`;
    const setting = [`N = ${m.concurrency}`, m.poolSize === null ? null : `P = ${m.poolSize}`, `D = ${m.delayMs} ms`]
      .filter(Boolean)
      .join(', ');
    svgs.set(file, timelineSvg(m, `${results.experiment} · ${m.label} · ${m.endpoint} · ${setting}`));
    files.timelines[m.label] = file;
  }
  for (const overlay of results.overlays ?? []) {
    const measurements = overlay.labels.flatMap((label) => results.measurements.filter((m) => m.label === label));
    if (measurements.length === 0) continue;
    const file = `${results.experiment}-overlay-${slug(overlay.name)}.svg`;
    svgs.set(file, overlaySvg(measurements, overlay.title));
    files.overlays = { ...files.overlays, [overlay.name]: file };
  }
  const { sweep } = results;
  if (sweep) {
    files.sweep = `${results.experiment}-sweep.svg`;
    svgs.set(files.sweep, sweepSvg(sweep.points, sweep.title, sweep.xLabel));
  }
  return { files, svgs };
}

/** Writes the SVG pictures of one results file into `dir` (beside its JSON) and returns their names. */
export async function writeCharts(dir: string, results: ResultsFile): Promise<ChartFiles> {
  const { files, svgs } = renderCharts(results);
  for (const [name, svg] of svgs) await writeAtomically(join(dir, name), svg);
  return files;
}

export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

function svg(box: Box, parts: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${box.width}" height="${box.height}" viewBox="0 0 ${box.width} ${box.height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

function line(x1: number, y1: number, x2: number, y2: number, stroke: string, dash?: string, width = 1): string {
  return `<line x1="${f(x1)}" y1="${f(y1)}" x2="${f(x2)}" y2="${f(y2)}" stroke="${stroke}" stroke-width="${width}"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`;
}

function text(
  x: number,
  y: number,
  content: string,
  anchor: 'start' | 'middle' | 'end',
  fill: string,
  size = 12,
  weight = 'normal',
): string {
  return `<text x="${f(x)}" y="${f(y)}" text-anchor="${anchor}" font-size="${size}" font-weight="${weight}" fill="${fill}">${escapeXml(content)}</text>`;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function f(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/** A tick's label in seconds, with as many decimals as the step between ticks needs: 0.05 s, not 0.1 s. */
function tick(ms: number, stepMs: number): string {
  return seconds(ms, Math.max(0, Math.ceil(-Math.log10(stepMs / 1000) - 1e-9)));
}

function trim(n: number): string {
  return String(Math.round(n * 10) / 10);
}
