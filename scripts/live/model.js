// @ts-check
/**
 * The model's box: what the model predicts for the form's settings and the scenario's lesson in their words, or
 * what is wrong with them, asked of the script (one definition of the model, in ../lib/live/scenarios.ts). Asked
 * once typing pauses, not on every keystroke; a newer question aborts the older one, and an answer for settings
 * the form no longer holds is never shown.
 */
import { elements } from './elements.js';
import { page, sayError } from './state.js';
import { ask, detailText } from './api.js';
import { formQuery } from './form.js';
import { seconds } from './svg.js';

/** @typedef {import('./state.js').ModelCheck} ModelCheck */
/** @typedef {import('./state.js').Model} Model */

/** How long typing must pause before the model is asked: "100" typed is one question, not three. */
const PAUSE_MS = 250;

/** After an edit: the model for the form's settings, once typing pauses. */
export function modelSoon() {
  clearTimeout(page.model.timer);
  page.model.timer = setTimeout(() => void checkModel(), PAUSE_MS);
}

/**
 * The model for the form's settings now (a question in flight for other settings is aborted), shown in the box.
 * @returns {Promise<ModelCheck>} whether the settings are valid (unknown: the script could not say)
 */
export function checkModel() {
  clearTimeout(page.model.timer);
  const query = formQuery().toString();
  const model = page.model;
  if (model.inFlight?.query === query) return model.inFlight.answer;
  model.inFlight?.abort.abort();
  const abort = new AbortController();
  const answer = ask(`/api/model?${query}`, { signal: abort.signal }).then((reply) => {
    /** @type {ModelCheck} */
    const check = !reply.answered ? 'unknown' : reply.status === 200 ? 'valid' : reply.status === 422 ? 'invalid' : 'unknown';
    // Only the newest question's answer is shown, and only while the form still holds its settings.
    const newest = model.inFlight?.abort === abort;
    if (newest) model.inFlight = null;
    if (!newest || query !== formQuery().toString()) return check;
    elements.model.dataset.query = query;
    if (!reply.answered) {
      elements.model.textContent = '–';
      sayError(`The model could not be had: ${reply.why}.`);
    } else if (check === 'valid') {
      const {
        model: m,
        lesson,
        settings,
      } = /** @type {{ model: Model, lesson: string, settings: { scenario: string } }} */ (reply.body);
      showModel(m, lesson, settings.scenario);
      sayError('');
    } else {
      elements.model.textContent = '–';
      const scenario = page.scenarios[new URLSearchParams(query).get('scenario') ?? ''];
      if (scenario) showLesson(scenario.title, scenario.name);
      sayError(
        check === 'invalid'
          ? detailText(reply.body.detail)
          : `The model could not be had: the script answered ${reply.status} (${detailText(reply.body.detail)}).`,
      );
    }
    return check;
  });
  model.inFlight = { query, abort, answer };
  return answer;
}

/**
 * The model and the lesson of the settings the form holds: from the script's answer, or from the burst of another
 * page whose settings the form now shows.
 * @param {Model} model @param {string} lesson @param {string} scenario
 */
export function showModel(model, lesson, scenario) {
  elements.model.textContent = `${seconds(model.predictedMs)}: ${model.formula}`;
  elements.model.dataset.query = formQuery().toString();
  showLesson(lesson, scenario);
}

/** @param {string} lesson @param {string} scenario */
function showLesson(lesson, scenario) {
  const script = page.scenarios[scenario]?.script;
  elements.lesson.textContent = script ? `${lesson} (The full run: scripts/${script}.)` : lesson;
}
