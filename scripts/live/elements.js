// @ts-check
/** The page's elements, found once: index.html has every one, and a missing one is a bug named by its id. */

/**
 * @template {Element} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
function byId(id, type) {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`#${id} is missing`);
  return element;
}

export const elements = {
  form: byId('settings', HTMLFormElement),
  scenario: byId('scenario', HTMLSelectElement),
  fields: byId('fields', HTMLDivElement),
  lesson: byId('lesson', HTMLParagraphElement),
  fire: byId('fire', HTMLButtonElement),
  stop: byId('stop', HTMLButtonElement),
  save: byId('save', HTMLButtonElement),
  model: byId('model', HTMLOutputElement),
  error: byId('error', HTMLParagraphElement),
  status: byId('status', HTMLParagraphElement),
  title: byId('title', HTMLHeadingElement),
  legend: byId('legend', HTMLParagraphElement),
  gaugeLegend: byId('gauge-legend', HTMLParagraphElement),
  timeline: byId('timeline', SVGSVGElement),
  timelineBody: byId('timeline-body', SVGGElement),
  gauges: byId('gauges', SVGSVGElement),
  gaugesBody: byId('gauges-body', SVGGElement),
  summary: byId('summary', HTMLTableElement),
  replayBox: byId('replay-box', HTMLDetailsElement),
  replayForm: byId('replay', HTMLFormElement),
  replayFile: byId('replay-file', HTMLSelectElement),
  replayLabel: byId('replay-label', HTMLSelectElement),
  replaySpeed: byId('replay-speed', HTMLSelectElement),
};
