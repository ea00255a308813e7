// @ts-check
/**
 * What the script streams (server-sent events from /api/events, one JSON object each; ../lib/live/events.ts
 * defines them): the state on connecting, the current burst's events so far, then everything as it happens. The
 * page draws one burst at a time: the one it fired, or one it takes up (another page's, where it may), never an
 * older one. While Fire waits for the script's answer, events are held, and handled once it is known which burst
 * is this page's.
 */
import { enter, page, sayError, sayStatus } from './state.js';
import { clearAnimation, finish, startView } from './picture.js';
import { closeBar } from './timeline.js';
import { fillForm } from './form.js';
import { showModel } from './model.js';

/** @typedef {import('./state.js').LiveEvent} LiveEvent */

const TYPES = /** @type {const} */ (['state', 'status', 'burst', 'started', 'end', 'sample', 'pool', 'done', 'failed']);

/** Listens to the script for as long as the page is open (the browser reconnects by itself; a page that rejoins gets the burst so far again). */
export function connect() {
  const source = new EventSource('/api/events');
  for (const type of TYPES) {
    source.addEventListener(type, (message) => handle(JSON.parse(/** @type {MessageEvent<string>} */ (message).data)));
  }
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) {
      // Refused for good (not a dropped connection, which the browser retries): nothing more will come.
      sayError('The page lost the script’s event stream; reload the page.');
      if (page.phase.name === 'firing') enter({ name: 'failed' });
    } else if (page.phase.name === 'firing') sayStatus('the script stopped answering; reconnecting…');
  };
}

/** @param {LiveEvent} event */
export function handle(event) {
  const phase = page.phase;
  if (phase.name === 'asking') {
    phase.held.push(event);
    return;
  }
  if (event.type === 'state') return onState(event);
  if (event.type === 'status') {
    if (phase.name !== 'replaying') sayStatus(event.text);
    return;
  }
  if (!follows(event.id)) return;
  const view = page.view;
  switch (event.type) {
    case 'burst': {
      startView({
        kind: 'live',
        id: event.id,
        label: event.label,
        endpoint: event.endpoint,
        scenario: page.scenarios[event.settings.scenario] ?? null,
        settings: event.settings,
        model: event.model,
        n: event.settings.requests,
      });
      // Another page's burst shows its settings here only where this page's form says nothing of its own yet.
      if (!page.ownSettings) {
        fillForm(event.settings);
        showModel(event.model, event.lesson, event.settings.scenario);
      }
      enter({ name: 'firing', stopping: phase.name === 'firing' && phase.stopping });
      sayStatus(`firing ${event.settings.requests} requests at ${event.endpoint}…`);
      return;
    }
    case 'started':
      if (!view) return;
      for (const [i, ms] of event.startsMs.entries()) view.starts.set(i + 1, ms);
      view.startedAtWall = event.at;
      return;
    case 'end':
      if (!view) return;
      view.ends.set(event.request.id, event.request);
      closeBar(view, event.request);
      return;
    case 'sample':
      view?.samples.push(event.sample);
      return;
    case 'pool':
      if (!view) return;
      view.pool ??= { steps: [], untilMs: 0 };
      view.pool.steps.splice(event.from, Number.POSITIVE_INFINITY, ...event.steps);
      view.pool.untilMs = event.untilMs;
      return;
    case 'done':
      if (!view) return;
      finish(event.result);
      sayStatus(event.result.interrupted ? 'stopped: what was answered is kept' : 'done');
      return;
    case 'failed':
      clearAnimation();
      sayError(`The burst could not run: ${event.detail}`);
      sayStatus('');
      enter({ name: 'failed' });
      return;
  }
}

/**
 * Whether the page draws this burst's events: the one it follows, or a newer one it may take up.
 * @param {number} id
 */
function follows(id) {
  const follow = page.follow;
  if (id === follow.burst) return true;
  const newer = id > Math.max(follow.burst ?? 0, follow.shownAfter);
  if (!newer || !follow.others || page.phase.name === 'replaying') return false;
  follow.burst = id;
  return true;
}

/** @param {Extract<LiveEvent, { type: 'state' }>} event */
function onState(event) {
  const running = event.state === 'starting' || event.state === 'firing';
  if (event.burst !== undefined) {
    // The first event on (re)connecting says which burst the script has. A finished one is shown only to a page
    // opened without settings of its own; a burst this page follows that the script no longer has is lost.
    if (event.burst !== null && page.ownSettings && !running)
      page.follow.shownAfter = Math.max(page.follow.shownAfter, event.burst);
    const followed = page.follow.burst;
    if (page.phase.name === 'firing' && followed !== null && (event.burst === null || event.burst < followed)) {
      clearAnimation();
      sayError('The script was restarted: the burst it was firing is gone. Fire again.');
      enter({ name: 'failed' });
    }
    return;
  }
  if (event.state === 'starting' && page.follow.burst === null && page.follow.others) sayStatus('another page fired a burst…');
}
