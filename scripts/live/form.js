// @ts-check
/**
 * The settings' form: one field per setting the script declares (its range and label from /api/scenarios), shown
 * where the scenario uses it; the form as a query string, which the address keeps so a link can preset it.
 */
import { elements } from './elements.js';
import { page } from './state.js';

/** @typedef {import('./state.js').Settings} Settings */

/** The scenario list and a field for every setting, from the script's declarations. */
export function buildForm() {
  elements.scenario.replaceChildren(...Object.values(page.scenarios).map((s) => new Option(s.title, s.name)));
  elements.fields.replaceChildren(
    ...Object.entries(page.limits).map(([name, limit]) => {
      const label = document.createElement('label');
      label.dataset.setting = name;
      const words = document.createElement('span');
      words.textContent = limit.label;
      const input = Object.assign(document.createElement('input'), {
        name,
        type: 'number',
        inputMode: 'numeric',
        min: String(limit.min),
        max: String(limit.max),
        step: '1',
      });
      label.append(words, input);
      return label;
    }),
  );
}

/** The form's settings as query parameters: the scenario and the settings it uses. */
export function formQuery() {
  const scenario = page.scenarios[elements.scenario.value];
  const query = new URLSearchParams({ scenario: elements.scenario.value });
  for (const name of scenario?.uses ?? []) {
    const input = elements.form.elements.namedItem(name);
    if (input instanceof HTMLInputElement && input.value !== '') query.set(name, input.value);
  }
  // What runs the server has no field: the address's runtime= is kept as it is.
  const runtime = new URLSearchParams(location.search).get('runtime');
  if (runtime) query.set('runtime', runtime);
  return query;
}

/**
 * Shows the settings a scenario uses, with the given values, else its defaults.
 * @param {Record<string, string | number> | Settings} given
 */
export function fillForm(given) {
  const values = /** @type {Record<string, string | number | undefined>} */ (given);
  const scenario = page.scenarios[String(values.scenario ?? elements.scenario.value)] ?? Object.values(page.scenarios)[0];
  if (!scenario) return;
  elements.scenario.value = scenario.name;
  for (const label of elements.fields.querySelectorAll('label')) {
    const name = /** @type {import('./state.js').SettingName} */ (label.dataset.setting);
    const input = label.querySelector('input');
    if (!input) continue;
    label.hidden = !scenario.uses.includes(name);
    input.value = String(values[name] ?? scenario.defaults[name]);
  }
}

/** The address holds the form's settings (so a link shares them), without a new history entry per keystroke. */
export function syncAddress() {
  history.replaceState(null, '', `?${formQuery()}`);
}
