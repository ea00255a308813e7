// @ts-check
/**
 * The live page (served by scripts/live.ts): the controls, the burst drawn as its events arrive (server-sent
 * events from the script, which fires it), the server's gauges beside it, the table when it ends, and replay of a
 * recorded burst from its start and end offsets. No framework, no build step; type-checked with the DOM's types and
 * the script's own (scripts/live/tsconfig.json).
 *
 * For outside checks (shared/DESIGN.md, "The live page"): body[data-state] is idle, firing, done or failed; each
 * request is a rect with data-request-id, and data-end-ms and data-status once answered; window.liveResult is the
 * burst as one measurement, set before the state becomes done.
 */

/** @typedef {import('../lib/live/events.ts').LiveEvent} LiveEvent */
/** @typedef {import('../lib/live/events.ts').LiveMeasurement} LiveMeasurement */
/** @typedef {import('../lib/live/scenarios.ts').Settings} Settings */
/** @typedef {import('../lib/live/scenarios.ts').SettingName} SettingName */
/** @typedef {import('../lib/live/scenarios.ts').Scenario} Scenario */
/** @typedef {import('../lib/live/scenarios.ts').Model} Model */
/** @typedef {import('../lib/live/events.ts').Sample} Sample */
/** @typedef {import('../lib/live/scenarios.ts').SettingError} SettingError */
/** @typedef {import('../lib/client/burst-types.ts').RequestRecord} RequestRecord */
/** @typedef {'idle' | 'firing' | 'done' | 'failed'} PageState */

/**
 * What is drawn: a live burst (followed by its id) or a replay of a recorded one.
 * @typedef {{
 *   kind: 'live' | 'replay',
 *   id: number | null,
 *   label: string,
 *   endpoint: string,
 *   settings: Settings | null,
 *   model: { predictedMs: number | null, boundariesMs: number[], formula: string },
 *   n: number,
 *   starts: Map<number, number>,
 *   ends: Map<number, RequestRecord>,
 *   samples: Sample[],
 *   startedAtWall: number | null,
 *   result: LiveMeasurement | null,
 *   replay?: { records: RequestRecord[], samples: Sample[], began: number, speed: number, lastMs: number, measurement: LiveMeasurement },
 * }} View
 */

const SVG_NS = 'http://www.w3.org/2000/svg';
const SETTINGS = /** @type {SettingName[]} */ (['requests', 'delayMs', 'pool', 'threads', 'workers']);
const WORKER_COLOURS = ['#2563eb', '#16a34a', '#9333ea', '#db2777', '#0891b2', '#ca8a04', '#4b5563', '#ea580c'];
const GAUGE_SERIES = /** @type {const} */ ([
  { key: 'busy', label: 'pool threads busy', colour: '#16a34a', panel: 0 },
  { key: 'queued', label: 'tasks queued for a thread', colour: '#f59e0b', panel: 0 },
  { key: 'inFlight', label: 'requests in flight', colour: '#2563eb', panel: 0 },
  { key: 'dbBusy', label: 'database connections in use', colour: '#9333ea', panel: 0 },
  { key: 'dbWaiting', label: 'queries waiting for a connection', colour: '#db2777', panel: 0 },
  { key: 'statsMs', label: '/stats answered after, ms (the event loop’s lag)', colour: '#6b7280', panel: 1 },
  { key: 'fileReadMs', label: 'a file read took, ms (also on libuv’s threads)', colour: '#0891b2', panel: 1 },
]);
/** Which gauges each scenario shows. */
const GAUGES_OF = /** @type {Record<string, string[]>} */ ({
  async: ['inFlight', 'statsMs'],
  sync: ['busy', 'queued', 'inFlight', 'statsMs'],
  'blocking-loop': ['inFlight', 'statsMs'],
  'cpu-loop': ['inFlight', 'statsMs'],
  'cpu-pool': ['busy', 'queued', 'inFlight', 'statsMs'],
  db: ['dbBusy', 'dbWaiting', 'inFlight', 'statsMs'],
  hash: ['inFlight', 'statsMs', 'fileReadMs'],
  workers: ['busy', 'queued', 'inFlight', 'statsMs'],
});
/** A /stats answer this much later than asked means the server's event loop could not answer: shaded as a gap. */
const GAP_MS = 300;
/** Every POST the page sends: the script refuses one that is not JSON (another site's form or no-cors fetch is not). */
const POST_JSON = /** @type {const} */ ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });

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

const form = byId('settings', HTMLFormElement);
const scenarioSelect = byId('scenario', HTMLSelectElement);
const fireButton = byId('fire', HTMLButtonElement);
const stopButton = byId('stop', HTMLButtonElement);
const saveButton = byId('save', HTMLButtonElement);
const modelOutput = byId('model', HTMLOutputElement);
const errorLine = byId('error', HTMLParagraphElement);
const statusLine = byId('status', HTMLParagraphElement);
const title = byId('title', HTMLHeadingElement);
const legend = byId('legend', HTMLParagraphElement);
const gaugeLegend = byId('gauge-legend', HTMLParagraphElement);
const timeline = byId('timeline', SVGSVGElement);
const gauges = byId('gauges', SVGSVGElement);
const timelineBody = byId('timeline-body', SVGGElement);
const gaugesBody = byId('gauges-body', SVGGElement);
const summary = byId('summary', HTMLTableElement);
const replayForm = byId('replay', HTMLFormElement);
const replayFile = byId('replay-file', HTMLSelectElement);
const replayLabel = byId('replay-label', HTMLSelectElement);
const replaySpeed = byId('replay-speed', HTMLSelectElement);
const replayBox = byId('replay-box', HTMLDetailsElement);

/** @type {Record<string, Scenario>} */
let scenarios = {};
/** @type {View | null} */
let view = null;
/** The live burst this page follows; events of any other are not drawn. */
let following = /** @type {number | null} */ (null);
/** Fire was pressed and the script has not said yet which burst it is: its events wait here. */
let awaitingFire = false;
/** @type {LiveEvent[]} */
let heldBack = [];
/** Whether the page may take up a burst it did not fire (one running, or the last one) when it hears of it. */
let mayFollowOthers = true;
/** @type {Map<number, SVGRectElement>} */
let bars = new Map();
let frame = 0;
/** A finished burst this page does not show (it was opened with settings of its own). */
let ignored = /** @type {number | null} */ (null);
/** The form shows no settings of its own yet (none in the address, none typed). */
let formUntouched = true;

// ————— state and controls —————

/** @param {PageState} state */
function setState(state) {
  document.body.dataset.state = state;
  const firing = state === 'firing';
  fireButton.disabled = firing;
  stopButton.disabled = !(firing && (view?.kind === 'live' || awaitingFire));
  saveButton.disabled = !(state === 'done' && view?.kind === 'live' && view.result !== null);
}

/** @returns {PageState} */
function pageState() {
  return /** @type {PageState} */ (document.body.dataset.state ?? 'idle');
}

/** The form's settings as query parameters: the scenario and the settings it uses. */
function formQuery() {
  const scenario = scenarios[scenarioSelect.value];
  const query = new URLSearchParams({ scenario: scenarioSelect.value });
  for (const name of scenario?.uses ?? []) {
    const input = form.elements.namedItem(name);
    if (input instanceof HTMLInputElement && input.value !== '') query.set(name, input.value);
  }
  return query;
}

/**
 * Shows the settings a scenario uses, with its defaults or the given values.
 * @param {Record<string, string | number> | Settings} given
 */
function fillForm(given) {
  const values = /** @type {Record<string, string | number | undefined>} */ (given);
  const scenario = scenarios[String(values.scenario ?? scenarioSelect.value)] ?? scenarios.sync;
  if (!scenario) return;
  scenarioSelect.value = scenario.name;
  byId('about', HTMLParagraphElement).textContent = `${scenario.about} (The full run: scripts/${scenario.script}.)`;
  for (const name of SETTINGS) {
    const label = form.querySelector(`[data-setting="${name}"]`);
    const input = form.elements.namedItem(name);
    if (!(label instanceof HTMLElement) || !(input instanceof HTMLInputElement)) continue;
    label.hidden = !scenario.uses.includes(name);
    input.value = String(values[name] ?? scenario.defaults[name]);
  }
}

/** Asks the script for the model of the form's settings; shows it, or what is wrong. @returns {Promise<boolean>} */
async function refreshModel() {
  const answer = await fetch(`/api/model?${formQuery()}`);
  const body = await answer.json();
  if (answer.status === 422) {
    showErrors(body.detail);
    modelOutput.textContent = '–';
    return false;
  }
  errorLine.textContent = '';
  const model = /** @type {Model} */ (body.model);
  modelOutput.textContent = `${seconds(model.predictedMs)}: ${model.formula}`;
  return true;
}

/** @param {SettingError[] | string} detail */
function showErrors(detail) {
  errorLine.textContent = typeof detail === 'string' ? detail : detail.map((e) => `${e.msg}, got "${e.input}".`).join(' ');
}

function syncAddress() {
  history.replaceState(null, '', `?${formQuery()}`);
}

// ————— firing —————

async function fire() {
  if (pageState() === 'firing' || awaitingFire) return;
  formUntouched = false;
  // From now until the script names the burst, what it streams waits: it may be the last burst's, or already ours.
  awaitingFire = true;
  heldBack = [];
  if (!(await refreshModel())) {
    awaitingFire = false;
    for (const event of heldBack.splice(0)) handle(event);
    return;
  }
  syncAddress();
  mayFollowOthers = true;
  clearView();
  setState('firing');
  statusLine.textContent = 'asking the script to fire…';
  const settings = Object.fromEntries(formQuery());
  const answer = await fetch('/api/fire', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(settings),
  });
  const body = await answer.json();
  awaitingFire = false;
  const held = heldBack;
  heldBack = [];
  if (answer.status !== 202) {
    showErrors(body.detail);
    setState(view ? pageState() : 'idle');
    if (pageState() === 'firing' && !view) setState('idle');
    for (const event of held) handle(event);
    return;
  }
  following = body.id;
  for (const event of held) handle(event);
}

// ————— events from the script —————

/** @param {LiveEvent} event */
function handle(event) {
  if (awaitingFire) {
    heldBack.push(event);
    return;
  }
  if (event.type === 'state') {
    // On connecting: a finished burst is shown only to a page opened without settings of its own.
    if (event.burst !== undefined && event.burst !== null && !formUntouched && !['starting', 'firing'].includes(event.state)) {
      ignored = event.burst;
    }
    if (event.state === 'starting' && following === null && mayFollowOthers)
      statusLine.textContent = 'another page fired a burst…';
    return;
  }
  if (event.type === 'status') {
    if (view?.kind !== 'replay') statusLine.textContent = event.text;
    return;
  }
  if (event.id === ignored) return;
  if (following === null || (event.type === 'burst' && event.id > following)) {
    // A burst this page did not fire: taken up if it may (not while replaying, not after a refused setting).
    if (!mayFollowOthers || view?.kind === 'replay') return;
    following = event.id;
  }
  if (event.id !== following) return;
  switch (event.type) {
    case 'burst':
      startView({
        kind: 'live',
        id: event.id,
        label: event.label,
        endpoint: event.endpoint,
        settings: event.settings,
        model: event.model,
        n: event.settings.requests,
      });
      // Another page's burst shows its settings here only where this page's form says nothing of its own yet.
      if (formUntouched) fillForm(event.settings);
      setState('firing');
      statusLine.textContent = `firing ${event.settings.requests} requests at ${event.endpoint}…`;
      break;
    case 'started':
      if (!view) return;
      for (const [i, ms] of event.startsMs.entries()) view.starts.set(i + 1, ms);
      view.startedAtWall = event.at;
      break;
    case 'end':
      view?.ends.set(event.request.id, event.request);
      if (view) closeBar(event.request);
      break;
    case 'sample':
      view?.samples.push(event.sample);
      break;
    case 'done':
      if (!view) return;
      finish(event.result);
      statusLine.textContent = event.result.interrupted ? 'stopped: what was answered is kept' : 'done';
      break;
    case 'failed':
      errorLine.textContent = `The burst could not run: ${event.detail}`;
      statusLine.textContent = '';
      setState('failed');
      break;
  }
}

function connect() {
  const source = new EventSource('/api/events');
  for (const type of ['state', 'status', 'burst', 'started', 'end', 'sample', 'done', 'failed']) {
    source.addEventListener(type, (message) => handle(JSON.parse(/** @type {MessageEvent<string>} */ (message).data)));
  }
  source.onerror = () => {
    if (pageState() === 'firing' && view?.kind === 'live') statusLine.textContent = 'the script stopped answering; reconnecting…';
  };
}

// ————— the picture —————

/** @param {Omit<View, 'starts' | 'ends' | 'samples' | 'startedAtWall' | 'result'>} fields */
function startView(fields) {
  cancelAnimationFrame(frame);
  view = { ...fields, starts: new Map(), ends: new Map(), samples: [], startedAtWall: null, result: null };
  summary.hidden = true;
  errorLine.textContent = '';
  title.textContent = `${fields.label} · ${fields.endpoint}`;
  buildTimeline(view);
  frame = requestAnimationFrame(draw);
}

function clearView() {
  cancelAnimationFrame(frame);
  view = null;
  bars = new Map();
  timelineBody.replaceChildren();
  gaugesBody.replaceChildren();
  summary.hidden = true;
  legend.textContent = '';
  gaugeLegend.textContent = '';
}

/** Plot geometry for n rows at the SVG's current width. @param {number} n */
function geometry(n) {
  const width = Math.max(320, timeline.clientWidth || 800);
  const rowHeight = Math.min(14, Math.max(0.4, 360 / n));
  const top = 26;
  const bottom = 26;
  const left = 44;
  const right = 12;
  return { width, rowHeight, top, bottom, left, right, plotWidth: width - left - right, height: top + rowHeight * n + bottom };
}

/** One rect per request, in order of id, each pending (no data-end-ms) until its answer comes. @param {View} v */
function buildTimeline(v) {
  bars = new Map();
  const g = geometry(v.n);
  timeline.setAttribute('viewBox', `0 0 ${g.width} ${g.height}`);
  timeline.setAttribute('height', String(g.height));
  const axis = svgElement('g', { class: 'axis' });
  const boundaries = svgElement('g', { class: 'boundaries' });
  const rows = svgElement('g', { class: 'bars' });
  for (let id = 1; id <= v.n; id++) {
    const rect = svgElement('rect', {
      'data-request-id': String(id),
      y: String(g.top + (id - 1) * g.rowHeight),
      height: String(Math.max(0.4, g.rowHeight - (g.rowHeight > 3 ? 1 : 0))),
      x: String(g.left),
      width: '0',
    });
    rows.append(rect);
    bars.set(id, rect);
  }
  timelineBody.replaceChildren(axis, rows, boundaries);
}

/** The answer to one request: its bar closes where it ended, coloured by status (and by process, where several). @param {RequestRecord} record */
function closeBar(record) {
  const rect = bars.get(record.id);
  if (!rect) return;
  rect.setAttribute('data-end-ms', String(record.endMs));
  rect.setAttribute('data-status', String(record.status ?? 0));
  const ok = record.status !== null && record.status >= 200 && record.status < 300;
  rect.classList.toggle('error', !ok);
  if (ok && record.worker && view?.settings?.scenario === 'workers') rect.style.fill = workerColour(record.worker);
  const title = svgElement('title', {});
  title.textContent = `#${record.id}: ${record.status ?? record.error} after ${(record.endMs - record.startMs).toFixed(0)} ms${record.worker ? ` (process ${record.worker})` : ''}`;
  rect.replaceChildren(title);
}

/** @type {Map<string, string>} */
const workerColours = new Map();
/** @param {string} worker */
function workerColour(worker) {
  if (!workerColours.has(worker))
    workerColours.set(worker, WORKER_COLOURS[workerColours.size % WORKER_COLOURS.length] ?? '#2563eb');
  return workerColours.get(worker) ?? '#2563eb';
}

/** Where the burst is now, ms since its first request: the script's clock for a live burst, the replay's own. */
function nowMs() {
  if (!view) return 0;
  if (view.replay) return (performance.now() - view.replay.began) * view.replay.speed;
  if (view.result) return view.result.totalMs;
  return view.startedAtWall === null ? 0 : Date.now() - view.startedAtWall;
}

function draw() {
  if (!view) return;
  const v = view;
  if (v.replay) advanceReplay(v);
  const now = nowMs();
  const lastEnd = Math.max(0, ...[...v.ends.values()].map((r) => r.endMs));
  const spanMs = Math.max(1, (v.model.predictedMs ?? 0) * 1.08, now * 1.04, lastEnd * 1.04);
  const g = geometry(v.n);
  const x = (/** @type {number} */ ms) => g.left + (ms / spanMs) * g.plotWidth;
  for (const [id, rect] of bars) {
    const start = v.starts.get(id);
    if (start === undefined) continue;
    const end = v.ends.get(id)?.endMs ?? (v.result ? start : now);
    rect.setAttribute('x', String(x(start)));
    rect.setAttribute('width', String(Math.max(0, x(end) - x(start))));
  }
  drawAxis(v, g, spanMs, x);
  drawGauges(v, g, spanMs, now);
  const answered = v.ends.size;
  legend.textContent = `${answered} of ${v.n} answered${v.result ? '' : ` · ${(now / 1000).toFixed(1)} s`} · model ${seconds(v.model.predictedMs)}: ${v.model.formula}`;
  if (pageState() === 'firing' || v.replay) frame = requestAnimationFrame(draw);
}

/**
 * The time axis and the model's wave boundaries (dashed: where each wave is due to end).
 * @param {View} v @param {ReturnType<typeof geometry>} g @param {number} spanMs @param {(ms: number) => number} x
 */
function drawAxis(v, g, spanMs, x) {
  const [axis, , boundaries] = /** @type {SVGGElement[]} */ ([...timelineBody.children]);
  if (!axis || !boundaries) return;
  const step = niceStep(spanMs / 8);
  const parts = [];
  for (let t = 0; t <= spanMs; t += step) {
    parts.push(
      svgElement('line', {
        x1: String(x(t)),
        x2: String(x(t)),
        y1: String(g.top - 4),
        y2: String(g.height - g.bottom),
        stroke: '#e5e7eb',
      }),
      text(x(t), g.height - 8, t >= 1000 ? `${(t / 1000).toFixed(step >= 1000 ? 0 : 1)} s` : `${t.toFixed(0)} ms`, 'middle'),
    );
  }
  axis.replaceChildren(...parts);
  boundaries.replaceChildren(
    ...v.model.boundariesMs.flatMap((ms, i) => [
      svgElement('line', {
        class: 'boundary',
        'data-boundary-ms': String(ms),
        x1: String(x(ms)),
        x2: String(x(ms)),
        y1: String(g.top - 4),
        y2: String(g.height - g.bottom),
      }),
      text(
        x(ms) - 4,
        g.top - 10,
        v.model.boundariesMs.length > 12 && i % Math.ceil(v.model.boundariesMs.length / 12) !== 0 ? '' : `wave ${i + 1}`,
        'end',
      ),
    ]),
  );
}

/**
 * The server's gauges on the same clock: counts above, times below; where /stats was answered late, a shaded gap
 * (its event loop could not answer).
 * @param {View} v @param {ReturnType<typeof geometry>} g @param {number} spanMs @param {number} now
 */
function drawGauges(v, g, spanMs, now) {
  const shown = GAUGES_OF[v.settings?.scenario ?? ''] ?? ['busy', 'queued', 'inFlight', 'statsMs'];
  const series = GAUGE_SERIES.filter((s) => shown.includes(s.key));
  const samples = v.samples.filter((s) => s.atMs <= now + 1);
  const panelHeight = 90;
  const gap = 18;
  const height = g.top + 2 * panelHeight + gap + g.bottom;
  gauges.setAttribute('viewBox', `0 0 ${g.width} ${height}`);
  gauges.setAttribute('height', String(height));
  const x = (/** @type {number} */ ms) => g.left + (ms / spanMs) * g.plotWidth;
  /** @type {Element[]} */
  const parts = [];
  for (const s of samples) {
    if (s.statsMs >= GAP_MS) {
      parts.push(
        svgElement('rect', {
          class: 'gap',
          x: String(x(s.atMs - s.statsMs)),
          width: String(x(s.atMs) - x(s.atMs - s.statsMs)),
          y: String(g.top),
          height: String(2 * panelHeight + gap),
        }),
      );
    }
  }
  if (samples.some((s) => s.statsMs >= GAP_MS))
    parts.push(text(g.left + 4, g.top - 8, 'shaded: the server could not answer /stats (its event loop was busy)', 'start'));
  for (const panel of [0, 1]) {
    const inPanel = series.filter((s) => s.panel === panel);
    const top = g.top + panel * (panelHeight + gap);
    const most = Math.max(1, ...inPanel.flatMap((s) => samples.map((sample) => Number(sample[s.key] ?? 0))));
    const y = (/** @type {number} */ value) => top + panelHeight - (value / most) * panelHeight;
    parts.push(
      svgElement('line', {
        x1: String(g.left),
        x2: String(g.width - g.right),
        y1: String(top + panelHeight),
        y2: String(top + panelHeight),
        stroke: '#d1d5db',
      }),
      text(g.left - 6, top + 8, String(Math.round(most)), 'end'),
      text(g.left - 6, top + panelHeight, '0', 'end'),
      text(g.width - g.right, top + 10, panel === 0 ? 'how many' : 'ms', 'end'),
    );
    for (const s of inPanel) {
      const points = samples.filter((sample) => sample[s.key] !== undefined);
      if (points.length === 0) continue;
      let path = '';
      let last = y(0);
      for (const [i, p] of points.entries()) {
        const value = y(Number(p[s.key]));
        path += i === 0 ? `M${x(p.atMs)} ${value}` : ` L${x(p.atMs)} ${last} L${x(p.atMs)} ${value}`;
        last = value;
      }
      parts.push(svgElement('path', { d: path, fill: 'none', stroke: s.colour, 'stroke-width': '2', 'data-gauge': s.key }));
    }
  }
  gaugesBody.replaceChildren(...parts);
  const latest = samples.at(-1);
  gaugeLegend.replaceChildren(
    ...series.flatMap((s) => {
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = s.colour;
      const value = latest?.[s.key];
      return [swatch, document.createTextNode(`${s.label}${value === undefined ? '' : `: ${Math.round(Number(value))}`}`)];
    }),
  );
}

/** The burst ended: every bar as recorded, the table, the result for outside checks, then the state. @param {LiveMeasurement} result */
function finish(result) {
  if (!view) return;
  view.result = result;
  for (const record of result.requests) {
    view.ends.set(record.id, record);
    view.starts.set(record.id, record.startMs);
    closeBar(record);
  }
  view.samples = result.samples ?? view.samples;
  draw();
  fillTable(result);
  window.liveResult = result;
  setState('done');
}

/** @param {LiveMeasurement} m */
function fillTable(m) {
  /** @type {Record<string, string>} */
  const cells = {
    total: `${seconds(m.totalMs)}${m.interrupted ? ' (stopped)' : ''}`,
    model: seconds(m.predictedMs),
    ok: String(m.ok),
    errors: String(m.errors),
    p50: `${m.latencyMs.p50.toFixed(0)} ms`,
    p99: `${m.latencyMs.p99.toFixed(0)} ms`,
    waves: m.waves ? m.waves.join(' + ') : '–',
  };
  for (const [name, value] of Object.entries(cells)) {
    const cell = summary.querySelector(`[data-cell="${name}"]`);
    if (cell) cell.textContent = value;
  }
  summary.hidden = false;
}

// ————— replay —————

async function listResults() {
  const answer = await fetch('/api/results');
  const { files } = /** @type {{ files: { file: string, labels: string[] }[] }} */ (await answer.json());
  replayFile.replaceChildren(...files.map((f) => new Option(f.file, f.file)));
  const labelsOf = () => files.find((f) => f.file === replayFile.value)?.labels ?? [];
  const fillLabels = () => replayLabel.replaceChildren(...labelsOf().map((label) => new Option(label, label)));
  replayFile.onchange = fillLabels;
  fillLabels();
  return files;
}

/** @param {string} file @param {string} label @param {number} speed */
async function replay(file, label, speed) {
  const answer = await fetch(`/api/results/${encodeURIComponent(file)}`);
  if (!answer.ok) {
    errorLine.textContent = `No results file ${file} to replay.`;
    setState('idle');
    return;
  }
  const results = await answer.json();
  /** @type {LiveMeasurement | undefined} */
  const m = results.measurements.find((/** @type {LiveMeasurement} */ x) => x.label === label);
  if (!m) {
    errorLine.textContent = `${file} has no measurement labelled "${label}".`;
    setState('idle');
    return;
  }
  mayFollowOthers = false;
  following = null;
  startView({
    kind: 'replay',
    id: null,
    label: `${results.experiment} · ${m.label} (replay${speed === 1 ? '' : `, ${speed}×`})`,
    endpoint: m.endpoint,
    settings: m.settings ?? null,
    model: {
      predictedMs: m.predictedMs,
      boundariesMs: m.boundariesMs ?? boundariesOf(m),
      formula: m.formula ?? `recorded by ${results.experiment}`,
    },
    n: m.requests.length,
  });
  if (!view) return;
  view.replay = {
    records: [...m.requests].sort((a, b) => a.endMs - b.endMs),
    samples: m.samples ?? [],
    began: performance.now(),
    speed,
    lastMs: Math.max(0, ...m.requests.map((r) => r.endMs)),
    measurement: m,
  };
  for (const r of m.requests) view.starts.set(r.id, r.startMs);
  statusLine.textContent = `replaying ${file}, ${label}`;
  setState('firing');
}

/** Ends of a recorded burst whose model drew no boundaries: multiples of D up to the model's total. @param {LiveMeasurement} m */
function boundariesOf(m) {
  if (!m.predictedMs || !m.delayMs) return [];
  const count = Math.min(200, Math.round(m.predictedMs / m.delayMs));
  return Array.from({ length: count }, (_, i) => (i + 1) * m.delayMs);
}

/** Moves the replay's clock on: the answers and samples recorded up to now arrive. @param {View} v */
function advanceReplay(v) {
  const r = v.replay;
  if (!r) return;
  const now = (performance.now() - r.began) * r.speed;
  while (v.ends.size < r.records.length) {
    const next = r.records[v.ends.size];
    if (!next || next.endMs > now) break;
    v.ends.set(next.id, next);
    closeBar(next);
  }
  v.samples = r.samples.filter((s) => s.atMs <= now);
  if (now >= r.lastMs && v.ends.size === r.records.length) {
    const measurement = r.measurement;
    delete v.replay;
    finish(measurement);
    statusLine.textContent = 'replayed';
  }
}

// ————— small helpers —————

/**
 * @template {keyof SVGElementTagNameMap} K
 * @param {K} name @param {Record<string, string>} attributes
 * @returns {SVGElementTagNameMap[K]}
 */
function svgElement(name, attributes) {
  const element = /** @type {SVGElementTagNameMap[K]} */ (document.createElementNS(SVG_NS, name));
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  return element;
}

/** @param {number} x @param {number} y @param {string} content @param {'start' | 'middle' | 'end'} anchor */
function text(x, y, content, anchor) {
  const element = svgElement('text', { x: String(x), y: String(y), 'text-anchor': anchor });
  element.textContent = content;
  return element;
}

/** A round step near `raw` ms: 1, 2 or 5 times a power of ten. @param {number} raw */
function niceStep(raw) {
  const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-9)));
  return [1, 2, 5, 10].map((k) => k * power).find((step) => step >= raw) ?? 10 * power;
}

/** @param {number | null | undefined} ms */
function seconds(ms) {
  if (ms === null || ms === undefined) return '–';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

// ————— start —————

// Before anything is loaded, Enter or Fire must not submit the form the browser's way (a reload).
form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (document.body.dataset.ready === 'yes') void fire();
});
fireButton.disabled = true;

async function start() {
  const answer = await fetch('/api/scenarios');
  const body = /** @type {{ scenarios: Scenario[], limits: Record<string, { min: number, max: number }> }} */ (
    await answer.json()
  );
  scenarios = Object.fromEntries(body.scenarios.map((s) => [s.name, s]));
  for (const [name, limit] of Object.entries(body.limits)) {
    const input = form.elements.namedItem(name);
    if (input instanceof HTMLInputElement) Object.assign(input, { min: String(limit.min), max: String(limit.max), step: '1' });
  }
  scenarioSelect.replaceChildren(...body.scenarios.map((s) => new Option(s.title, s.name)));
  const query = new URLSearchParams(location.search);

  formUntouched = !query.has('scenario');
  scenarioSelect.addEventListener('change', () => {
    formUntouched = false;
    fillForm({ scenario: scenarioSelect.value });
    syncAddress();
    void refreshModel();
  });
  form.addEventListener('input', (event) => {
    formUntouched = false;
    if (event.target === scenarioSelect) return;
    syncAddress();
    void refreshModel();
  });
  stopButton.addEventListener('click', () => void fetch('/api/stop', POST_JSON));
  saveButton.addEventListener('click', async () => {
    const saved = await fetch('/api/save', POST_JSON);
    const result = await saved.json();
    if (saved.ok) {
      statusLine.textContent = `saved as “${result.label}” in ${result.file}`;
      await listResults();
    } else showErrors(result.detail);
  });
  replayForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void replay(replayFile.value, replayLabel.value, Number(replaySpeed.value));
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !stopButton.disabled) stopButton.click();
  });
  window.addEventListener('resize', () => {
    if (view) {
      buildTimeline(view);
      for (const record of view.ends.values()) closeBar(record);
      draw();
    }
  });

  const replayFileName = query.get('replay');
  if (replayFileName) {
    mayFollowOthers = false;
    fillForm({ scenario: 'sync' });
    const files = await listResults();
    replayBox.open = true;
    if (files.some((f) => f.file === replayFileName)) replayFile.value = replayFileName;
    replayFile.dispatchEvent(new Event('change'));
    const label = query.get('label') ?? '';
    if (label) replayLabel.value = label;
    connect();
    document.body.dataset.ready = 'yes';
    await replay(replayFileName, label, Number(query.get('speed') ?? 1));
    return;
  }
  fillForm(Object.fromEntries(query));
  void listResults();
  const valid = await refreshModel();
  if (!valid) mayFollowOthers = false;
  document.body.dataset.ready = 'yes';
  if (query.get('fire') === '1' && valid) {
    const firing = fire();
    connect();
    await firing;
  } else connect();
  setState(pageState());
}

void start();
