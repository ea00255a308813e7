// @ts-check
/**
 * The live page (served by scripts/live.ts): the controls, the burst drawn as its events arrive (server-sent events
 * from the script, which fires it), the server's gauges beside it, the table when it ends, and replay of a recorded
 * burst. ES modules as they are, no framework, no build step; type-checked with the DOM's types and the script's
 * own (scripts/live/tsconfig.json). Each module has one part: the state (state.js), requests to the script (api.js),
 * the form and the model (form.js, model.js), Fire/Stop/Save (controls.js), the stream (stream.js), the picture
 * (picture.js: timeline.js, gauges.js), replay (replay.js). This one starts them.
 *
 * For outside checks (docs/live-page.md, "What a browser test can rely on"): body[data-state] is idle, firing, done
 * or failed; each request is a rect with data-request-id, and data-end-ms and data-status once answered;
 * window.liveResult is the burst as one measurement, set before the state becomes done.
 */
import { elements } from './elements.js';
import { enter, page, sayError, showPhase } from './state.js';
import { ask, detailText } from './api.js';
import { buildForm, fillForm, syncAddress } from './form.js';
import { checkModel, modelSoon } from './model.js';
import { fire, save, stop } from './controls.js';
import { connect } from './stream.js';
import { redraw } from './picture.js';
import { listResults, replay } from './replay.js';

// Before anything is loaded, Enter or Fire must not submit the form the browser's way (a reload); Fire waits for the scenarios.
elements.form.addEventListener('submit', (event) => {
  event.preventDefault();
  void fire();
});
showPhase();

async function start() {
  const reply = await ask('/api/scenarios');
  if (!reply.answered || reply.status !== 200) {
    sayError(`The page could not load its scenarios (${reply.answered ? detailText(reply.body.detail) : reply.why}): reload it.`);
    return;
  }
  const body = /** @type {{ scenarios: import('./state.js').Scenario[], limits: Record<string, import('./state.js').Limit> }} */ (
    reply.body
  );
  page.scenarios = Object.fromEntries(body.scenarios.map((s) => [s.name, s]));
  page.limits = body.limits;
  buildForm();

  elements.scenario.addEventListener('change', () => {
    page.ownSettings = true;
    fillForm({ scenario: elements.scenario.value });
    syncAddress();
    void checkModel();
  });
  elements.form.addEventListener('input', (event) => {
    if (event.target === elements.scenario) return;
    page.ownSettings = true;
    syncAddress();
    modelSoon();
  });
  elements.stop.addEventListener('click', () => void stop());
  elements.save.addEventListener('click', () => void save());
  elements.replayForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void replay(elements.replayFile.value, elements.replayLabel.value, Number(elements.replaySpeed.value));
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !elements.stop.disabled) void stop();
  });
  window.addEventListener('resize', redraw);

  const query = new URLSearchParams(location.search);
  const recorded = query.get('replay');
  if (recorded) {
    page.follow.others = false;
    fillForm({});
    void checkModel();
    const files = await listResults();
    elements.replayBox.open = true;
    if (files.some((f) => f.file === recorded)) elements.replayFile.value = recorded;
    elements.replayFile.dispatchEvent(new Event('change'));
    const label = query.get('label') ?? '';
    if (label) elements.replayLabel.value = label;
    enter({ name: 'idle' });
    connect();
    await replay(recorded, label, Number(query.get('speed') ?? 1));
    return;
  }
  page.ownSettings = query.has('scenario');
  fillForm(Object.fromEntries(query));
  void listResults();
  const check = await checkModel();
  // A page whose own settings are refused shows nobody else's burst either: only the error.
  if (check === 'invalid') page.follow.others = false;
  enter({ name: 'idle' });
  // Fire first, so what the script streams on connecting is held until it has said which burst is this page's.
  if (query.get('fire') === '1' && check !== 'invalid') void fire();
  connect();
}

void start();
