/**
 * The pictures of a results file, drawn from its JSON alone (so report.ts can draw them again):
 *  - timelineSvg: one horizontal bar per request, from when it was sent to when it was answered, sorted by
 *    start. A burst that waits together is one block; a pool of 40 serving 100 is three stacked blocks.
 *  - overlaySvg: a burst and what was fired beside it, on one clock;
 *  - and the sweep and staircase charts of ./sweep-charts.ts.
 *
 * The geometry (where each bar goes) is computed by separate functions, so tests can check it against the
 * data without parsing SVG.
 */
import { isOk } from '../client/burst-types.ts';
import { join } from 'node:path';
import type { ChartFiles, Measurement, RequestRecord, ResultsFile } from '../results/types.ts';
import { writeAtomically } from '../results/file.ts';
import { CHART_BOX, COLORS, SERIES_COLORS, f, line, niceStep, svg, text, tick, trim, type Box } from './svg.ts';
import { staircaseSvg, sweepSvg } from './sweep-charts.ts';

/** How a bar's waiting part is drawn: its colour, lighter. */
const WAITING_OPACITY = 0.3;

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
  /**
   * Where the server said it worked on the request (its Server-Timing, ./servedSpans): the dark parts of the bar;
   * the rest of it waited (queued for a thread or a connection, or in transit). Absent where the server said nothing.
   */
  served?: { x: number; width: number }[];
}

/**
 * A request's time as the server accounted for it, placed on the request's own bar: the metrics in the order the
 * server gave them (its chain: a wait, then the work it waited for), the last one ending where the answer arrived,
 * each before the next. Names ending in -wait are time queued; the others, work: the spans returned are the work's,
 * in ms from the burst's start. The time before the first metric (the request in transit, the server taking it in)
 * is waiting too. Null where the request carries no Server-Timing.
 */
export function servedSpans(r: RequestRecord): { startMs: number; endMs: number }[] | null {
  if (r.serverTiming === undefined) return null;
  const spans: { startMs: number; endMs: number }[] = [];
  let end = r.endMs;
  for (const [name, ms] of Object.entries(r.serverTiming).reverse()) {
    const start = Math.max(r.startMs, end - ms);
    if (!name.endsWith('-wait') && end > start) spans.unshift({ startMs: start, endMs: end });
    end = start;
  }
  return spans;
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
  const bars = drawn.map((r, row): Bar => {
    const served = servedSpans(r);
    return {
      id: r.id,
      x: box.left + r.startMs * pxPerMs,
      y: box.top + row * rowHeight,
      width: Math.max((r.endMs - r.startMs) * pxPerMs, 0.5),
      height: Math.max(rowHeight * 0.8, 0.3),
      ok: isOk(r),
      series: r.series ?? 0,
      ...(served === null
        ? {}
        : {
            served: served.map((span) => ({
              x: box.left + span.startMs * pxPerMs,
              width: (span.endMs - span.startMs) * pxPerMs,
            })),
          }),
    };
  });
  return { bars, pxPerMs, spanMs, sampledEvery };
}

/**
 * One burst. Where the answers came from several server processes (X-Worker, server.ts --workers K), each
 * process has its colour: the picture shows who took which requests.
 */
export function timelineSvg(m: Measurement, title: string): string {
  // The requests drawn are one burst's (the median run's): the legend counts those, not all repeats'.
  const drawn: Record<string, number> = {};
  for (const r of m.requests) if (r.worker !== undefined) drawn[r.worker] = (drawn[r.worker] ?? 0) + 1;
  const workers = Object.keys(drawn);
  if (workers.length < 2) return m.waves && m.waves.length > 1 ? byWave(m, title) : drawTimeline(title, m, m.requests, []);
  const series = new Map(workers.map((pid, i) => [pid, i]));
  const requests = m.requests.map((r) => ({ ...r, series: r.worker === undefined ? 0 : (series.get(r.worker) ?? 0) }));
  return drawTimeline(
    title,
    m,
    requests,
    workers.map((pid) => `PID ${pid}: ${drawn[pid]}`),
  );
}

/** A burst whose waves were read (find-pool): the answers in the order they came, each wave in its colour. */
function byWave(m: Measurement, title: string): string {
  const answered = m.requests.filter(isOk).sort((a, b) => a.endMs - b.endMs);
  const wave = new Map<number, number>();
  let next = 0;
  for (const [i, size] of (m.waves ?? []).entries()) {
    for (const r of answered.slice(next, next + size)) wave.set(r.id, i);
    next += size;
  }
  const requests = m.requests.map((r) => ({ ...r, series: wave.get(r.id) ?? 0 }));
  return drawTimeline(
    title,
    m,
    requests,
    (m.waves ?? []).map((size, i) => `wave ${i + 1}: ${size}`),
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
    // Where the server said where the time went: the bar light (waiting), its served parts dark.
    const light = bar.served ? ` fill-opacity="${WAITING_OPACITY}"` : '';
    parts.push(
      `<rect x="${f(bar.x)}" y="${f(bar.y)}" width="${f(bar.width)}" height="${f(bar.height)}" fill="${fill}"${light}><title>#${bar.id}</title></rect>`,
    );
    for (const span of bar.served ?? []) {
      parts.push(
        `<rect x="${f(span.x)}" y="${f(bar.y)}" width="${f(Math.max(span.width, 0.5))}" height="${f(bar.height)}" fill="${fill}"/>`,
      );
    }
  }
  const segmented = geometry.bars.some((bar) => bar.served);
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
        `${fromSplit === null ? '' : `, ${trim(fromSplit)} ms from this split`}${lastWave > 0 ? ` (dashed: the waves)` : ''} · ${m.ok} ok, ${m.errors} errors` +
        `${segmented ? ' · light: waiting, dark: served (the server’s Server-Timing)' : ''}`,
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

/** Every picture of one results file, by file name: a timeline per measurement (unless it says not), a sweep, staircases. */
export function renderCharts(results: ResultsFile): { files: ChartFiles; svgs: Map<string, string> } {
  const svgs = new Map<string, string>();
  const files: ChartFiles = { timelines: {} };
  for (const m of results.measurements) {
    if (m.timeline === false) continue;
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
  for (const staircase of results.staircases ?? []) {
    const file = `${results.experiment}-staircase-${slug(staircase.name)}.svg`;
    svgs.set(file, staircaseSvg(staircase));
    files.staircases = { ...files.staircases, [staircase.name]: file };
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
