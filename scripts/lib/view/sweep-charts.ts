/**
 * Pictures of a sweep: one total for each setting beside the model's figure (sweepSvg: pool sizes, threadpool
 * sizes), and a staircase (staircaseSvg: the total as N grows, measured points over the model's steps, for the P that
 * find-pool concluded). The geometry apart, so tests check it against the data without parsing SVG.
 */
import type { Staircase, SweepPoint } from '../results/types.ts';
import { CHART_BOX, COLORS, escapeXml, f, line, niceStep, svg, text, tick, trim, type Box } from './svg.ts';

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

export interface StaircaseGeometry {
  /** Each burst's point: x from its N (log scale), y from its total. */
  points: { requests: number; x: number; y: number; totalMs: number }[];
  /** The model's steps as a polyline: where its total changes, a vertical rise. */
  steps: { x: number; y: number }[];
  pxPerMs: number;
  /** x of an N. */
  xOf(requests: number): number;
}

/** Where each burst's point goes, and the model's steps: N on a log scale (the finder doubles it), the total up. */
export function staircaseGeometry(staircase: Staircase, box: Box = CHART_BOX): StaircaseGeometry {
  const maxN = Math.max(2, ...staircase.points.map((p) => p.requests), ...staircase.model.map((p) => p.requests));
  const maxMs = Math.max(1, ...staircase.points.map((p) => p.totalMs), ...staircase.model.map((p) => p.predictedMs)) * 1.1;
  const bottom = box.height - box.bottom;
  const pxPerMs = (bottom - box.top) / maxMs;
  const xOf = (requests: number) =>
    box.left + (Math.log2(Math.max(requests, 1)) / Math.log2(maxN)) * (box.width - box.left - box.right);
  const yOf = (ms: number) => bottom - ms * pxPerMs;
  const steps: { x: number; y: number }[] = [];
  for (const [i, p] of [...staircase.model].sort((a, b) => a.requests - b.requests).entries()) {
    const y = yOf(p.predictedMs);
    const last = steps.at(-1);
    if (i > 0 && last && last.y !== y) steps.push({ x: xOf(p.requests - 0.5), y: last.y }, { x: xOf(p.requests - 0.5), y });
    steps.push({ x: xOf(p.requests), y });
  }
  const points = staircase.points.map((p) => ({
    requests: p.requests,
    x: xOf(p.requests),
    y: yOf(p.totalMs),
    totalMs: p.totalMs,
  }));
  return { points, steps, pxPerMs, xOf };
}

export function staircaseSvg(staircase: Staircase): string {
  const box = CHART_BOX;
  const geometry = staircaseGeometry(staircase, box);
  const bottom = box.height - box.bottom;
  const parts: string[] = [];
  const maxMs = (bottom - box.top) / geometry.pxPerMs;
  const step = niceStep(maxMs / 1000, 6) * 1000;
  for (let t = 0; t <= maxMs; t += step) {
    const y = bottom - t * geometry.pxPerMs;
    parts.push(
      line(box.left, y, box.width - box.right, y, COLORS.grid),
      text(box.left - 8, y + 4, tick(t, step), 'end', COLORS.muted),
    );
  }
  const maxN = Math.max(...staircase.points.map((p) => p.requests), ...staircase.model.map((p) => p.requests));
  for (let n = 1; n <= maxN; n *= 2) parts.push(text(geometry.xOf(n), bottom + 18, String(n), 'middle', COLORS.muted));
  if (geometry.steps.length > 1) {
    const path = geometry.steps.map((p, i) => `${i === 0 ? 'M' : 'L'}${f(p.x)} ${f(p.y)}`).join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="${COLORS.model}" stroke-width="3"/>`);
  }
  for (const p of geometry.points) {
    parts.push(
      `<circle cx="${f(p.x)}" cy="${f(p.y)}" r="5" fill="${COLORS.ok}"><title>N = ${p.requests}: ${trim(p.totalMs)} ms</title></circle>`,
      text(p.x, p.y - 10, `${(p.totalMs / 1000).toFixed(2)} s`, 'middle', COLORS.text, 11),
    );
  }
  parts.push(
    text(box.left, 22, staircase.title, 'start', COLORS.text, 15, 'bold'),
    text(box.left, 40, 'dots: each burst’s total · orange: the model’s steps for the P found', 'start', COLORS.muted),
    text(
      box.left + (box.width - box.left - box.right) / 2,
      box.height - 10,
      'requests fired at once (N, log scale)',
      'middle',
      COLORS.muted,
    ),
  );
  return svg(box, parts);
}
