// @ts-check
/** Small drawing helpers the timeline and the gauges share: SVG elements, text, a round step, a time in words. */

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * @template {keyof SVGElementTagNameMap} K
 * @param {K} name @param {Record<string, string>} attributes
 * @returns {SVGElementTagNameMap[K]}
 */
export function svgElement(name, attributes) {
  const element = /** @type {SVGElementTagNameMap[K]} */ (document.createElementNS(SVG_NS, name));
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  return element;
}

/** @param {number} x @param {number} y @param {string} content @param {'start' | 'middle' | 'end'} anchor */
export function text(x, y, content, anchor) {
  const element = svgElement('text', { x: String(x), y: String(y), 'text-anchor': anchor });
  element.textContent = content;
  return element;
}

/** A round step near `raw` ms: 1, 2 or 5 times a power of ten. @param {number} raw */
export function niceStep(raw) {
  const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-9)));
  return [1, 2, 5, 10].map((k) => k * power).find((step) => step >= raw) ?? 10 * power;
}

/** @param {number | null | undefined} ms */
export function seconds(ms) {
  if (ms === null || ms === undefined) return '–';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

/**
 * Plot geometry for n rows at the timeline's current width; the gauges share its left edge and width, so both are
 * on one clock.
 * @param {number} n @param {number} clientWidth
 */
export function geometry(n, clientWidth) {
  const width = Math.max(320, clientWidth || 800);
  const rowHeight = Math.min(14, Math.max(0.4, 360 / n));
  const top = 26;
  const bottom = 26;
  const left = 44;
  const right = 12;
  return { width, rowHeight, top, bottom, left, right, plotWidth: width - left - right, height: top + rowHeight * n + bottom };
}
/** @typedef {ReturnType<typeof geometry>} Geometry */
