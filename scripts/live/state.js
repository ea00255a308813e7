// @ts-check
/**
 * The page's one state value, `page`, and the phases it goes through. Every module reads and changes this one object;
 * none keeps state of its own. The phase is explicit, and what the page shows for outside checks follows from it:
 * `body[data-state]` is idle, firing, done or failed (the contract in docs/live-page.md, "What a browser test can
 * rely on"), and which buttons work.
 *
 *   loading ─→ idle ─Fire─→ asking ─202─→ firing ─done─→ done
 *                 ↑           │              │  └─failed─→ failed
 *                 └─refused───┘ (back where it was; a Fire that got no answer: failed, saying why)
 *   replaying: a recorded burst drawn from its offsets, then done.
 *
 * Every phase but loading, asking and replaying can be left by Fire: nothing can leave the page where no button
 * works.
 */
import { elements } from './elements.js';

/** @typedef {import('../lib/live/events.ts').LiveEvent} LiveEvent */
/** @typedef {import('../lib/live/events.ts').LiveMeasurement} LiveMeasurement */
/** @typedef {import('../lib/live/events.ts').Sample} Sample */
/** @typedef {import('../lib/live/events.ts').PoolStep} PoolStep */
/** @typedef {import('../lib/live/scenarios.ts').Settings} Settings */
/** @typedef {import('../lib/live/scenarios.ts').SettingName} SettingName */
/** @typedef {import('../lib/live/scenarios.ts').Scenario} Scenario */
/** @typedef {import('../lib/live/scenarios.ts').GaugeName} GaugeName */
/** @typedef {import('../lib/live/scenarios.ts').Model} Model */
/** @typedef {import('../lib/live/scenarios.ts').SettingError} SettingError */
/** @typedef {import('../lib/client/burst-types.ts').RequestRecord} RequestRecord */
/** @typedef {{ min: number, max: number, label: string }} Limit */

/** What the contract calls the page's state. @typedef {'idle' | 'firing' | 'done' | 'failed'} ContractState */

/**
 * @typedef {{ name: 'loading' }
 *   | { name: 'idle' }
 *   | { name: 'asking', posted: boolean, held: LiveEvent[], back: 'idle' | 'done' | 'failed' }
 *   | { name: 'firing', stopping: boolean }
 *   | { name: 'replaying' }
 *   | { name: 'done', saving: boolean }
 *   | { name: 'failed' }} Phase
 * `asking`: Fire was pressed; the settings are checked, then sent (`posted`); what the script streams meanwhile is
 * `held` until it says which burst is ours; a Fire that does not happen goes `back`. `firing`: a live burst this page
 * follows; `stopping` while Stop is asked. `done`: `saving` while Save is asked.
 */

/**
 * What is drawn: a live burst (followed by its id) or a replay of a recorded one.
 * @typedef {{
 *   kind: 'live' | 'replay',
 *   id: number | null,
 *   label: string,
 *   endpoint: string,
 *   scenario: Scenario | null,
 *   settings: Settings | null,
 *   model: { predictedMs: number | null, boundariesMs: number[], formula: string },
 *   n: number,
 *   starts: Map<number, number>,
 *   ends: Map<number, RequestRecord>,
 *   bars: Map<number, SVGRectElement>,
 *   served: Map<number, SVGRectElement>,
 *   colours: Map<string, string>,
 *   samples: Sample[],
 *   pool: { steps: PoolStep[], untilMs: number } | null,
 *   geometry: import('./svg.js').Geometry,
 *   axisSpanMs: number,
 *   gaugesDrawnAt: number,
 *   startedAtWall: number | null,
 *   result: LiveMeasurement | null,
 *   replay?: { began: number, speed: number, advance: () => void },
 * }} View
 */

export const page = {
  /** @type {Phase} */
  phase: { name: 'loading' },
  /** The scenarios and the settings' ranges, as the script declares them. */
  scenarios: /** @type {Record<string, Scenario>} */ ({}),
  limits: /** @type {Record<string, Limit>} */ ({}),
  /** @type {View | null} */
  view: null,
  /** The animation frame that draws the view, while one is asked for. */
  frame: 0,
  /**
   * Which live burst is drawn (`burst`), and whether the page may take up one it did not fire (`others`: not while
   * it replays, nor after a refused setting) newer than `shownAfter` (a finished burst a page opened with settings
   * of its own does not show).
   */
  follow: { burst: /** @type {number | null} */ (null), others: true, shownAfter: 0 },
  /** The form holds settings of this page's own (from the address, or typed), not another page's burst's. */
  ownSettings: false,
  /**
   * The model's box: the question waiting to be sent (once typing pauses), and the one in flight with the form's
   * query it is for (aborted when a newer one is sent).
   */
  model: {
    timer: /** @type {ReturnType<typeof setTimeout> | undefined} */ (undefined),
    inFlight: /** @type {{ query: string, abort: AbortController, answer: Promise<ModelCheck> } | null} */ (null),
  },
};

/** What a model request found: the settings are valid, are not (and the page says why), or nobody knows (and why). @typedef {'valid' | 'invalid' | 'unknown'} ModelCheck */

/** @param {Phase} phase */
export function enter(phase) {
  page.phase = phase;
  showPhase();
}

/** @returns {ContractState} */
export function contractState() {
  const phase = page.phase;
  switch (phase.name) {
    case 'loading':
    case 'idle':
      return 'idle';
    case 'asking':
      return phase.posted ? 'firing' : phase.back;
    case 'firing':
    case 'replaying':
      return 'firing';
    case 'done':
    case 'failed':
      return phase.name;
  }
}

/** The state for outside checks and the buttons, from the phase (and, for Save, whether there is a live burst to save). */
export function showPhase() {
  const name = page.phase.name;
  document.body.dataset.state = contractState();
  elements.fire.disabled = !['idle', 'done', 'failed'].includes(name);
  elements.stop.disabled = !(
    (page.phase.name === 'firing' && !page.phase.stopping) ||
    (page.phase.name === 'asking' && page.phase.posted)
  );
  const view = page.view;
  elements.save.disabled = !(page.phase.name === 'done' && !page.phase.saving && view?.kind === 'live' && view.result !== null);
}

/** What went wrong, in one line beside the controls (empty: nothing). @param {string} text */
export function sayError(text) {
  elements.error.textContent = text;
}

/** What the page is doing. @param {string} text */
export function sayStatus(text) {
  elements.status.textContent = text;
}
