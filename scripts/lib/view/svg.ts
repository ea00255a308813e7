/**
 * The SVG the pictures are drawn with: plain strings, no dependencies, so they open in any browser and render on
 * Git hosts. The box, the colours, the ticks, and the few elements every picture uses.
 */
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

/** Round tick spacing (1, 2 or 5 × 10^k) giving about `count` ticks over `span`. */
export function niceStep(span: number, count = 8): number {
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
}

export const COLORS = { ok: '#2563eb', error: '#dc2626', model: '#f59e0b', grid: '#e5e7eb', text: '#111827', muted: '#6b7280' };

/** Series colours: the first is the burst's; errors are always red. */
export const SERIES_COLORS = ['#2563eb', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#db2777', '#65a30d', '#4f46e5'];

export function svg(box: Box, parts: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${box.width}" height="${box.height}" viewBox="0 0 ${box.width} ${box.height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

export function line(x1: number, y1: number, x2: number, y2: number, stroke: string, dash?: string, width = 1): string {
  return `<line x1="${f(x1)}" y1="${f(y1)}" x2="${f(x2)}" y2="${f(y2)}" stroke="${stroke}" stroke-width="${width}"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`;
}

export function text(
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

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function f(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/** A tick's label in seconds, with as many decimals as the step between ticks needs: 0.05 s, not 0.1 s. */
export function tick(ms: number, stepMs: number): string {
  return seconds(ms, Math.max(0, Math.ceil(-Math.log10(stepMs / 1000) - 1e-9)));
}

export function trim(n: number): string {
  return String(Math.round(n * 10) / 10);
}
