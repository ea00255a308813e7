// @ts-check
/**
 * Fire, Stop and Save. Each asks the script and, whatever comes back (an answer, a refusal, no answer at all), leaves
 * the page in a phase whose buttons work and says what failed: none of them can leave it waiting for ever.
 */
import { enter, page, sayError, sayStatus, showPhase } from './state.js';
import { post, detailText } from './api.js';
import { formQuery, syncAddress } from './form.js';
import { checkModel } from './model.js';
import { clearView } from './picture.js';
import { handle } from './stream.js';
import { listResults } from './replay.js';

/** @typedef {import('./state.js').Phase} Phase */

/** Fire: the form's settings checked, then sent; the burst the script answers with is the one drawn. */
export async function fire() {
  const before = page.phase;
  if (before.name !== 'idle' && before.name !== 'done' && before.name !== 'failed') return;
  page.ownSettings = true;
  /** @type {Extract<Phase, { name: 'asking' }>} */
  const asking = { name: 'asking', posted: false, held: [], back: before.name };
  enter(asking);
  /** @type {Phase} */
  let next = before.name === 'done' ? { name: 'done', saving: false } : before;
  try {
    // The model's question checks the settings: one out of range is said there, and nothing is fired.
    if ((await checkModel()) === 'invalid') return;
    syncAddress();
    page.follow.others = true;
    asking.posted = true;
    clearView();
    showPhase();
    sayError('');
    sayStatus('asking the script to fire…');
    const reply = await post('/api/fire', Object.fromEntries(formQuery()));
    if (reply.answered && reply.status === 202) {
      page.follow.burst = reply.body.id;
      next = { name: 'firing', stopping: false };
      return;
    }
    sayStatus('');
    if (!reply.answered) {
      sayError(`Fire failed: ${reply.why}. Nothing was fired; press Fire to try again.`);
      next = { name: 'failed' };
    } else {
      // Refused: a burst is running (another page's: it is taken up below), or the settings are out of range.
      sayError(detailText(reply.body.detail));
      next = { name: 'idle' };
    }
  } finally {
    enter(next);
    // What the script streamed meanwhile, now that it is known which burst is ours.
    for (const event of asking.held) handle(event);
  }
}

/** Stop: the burst in flight ends; what was answered is kept (the script says so with the burst's end). */
export async function stop() {
  const phase = page.phase;
  const running = phase.name === 'firing' || (phase.name === 'asking' && phase.posted);
  if (!running || (phase.name === 'firing' && phase.stopping)) return;
  if (phase.name === 'firing') enter({ name: 'firing', stopping: true });
  const reply = await post('/api/stop');
  if (reply.answered && reply.status === 200) {
    sayStatus(reply.body.stopped ? 'stopping…' : 'nothing was running');
    return;
  }
  sayError(`Stop failed: ${reply.answered ? detailText(reply.body.detail) : reply.why}. Press Stop again.`);
  const now = page.phase;
  if (now.name === 'firing') enter({ name: 'firing', stopping: false });
}

/** Save: the last burst added to the --out folder's live.json. */
export async function save() {
  if (page.phase.name !== 'done' || page.phase.saving) return;
  enter({ name: 'done', saving: true });
  const reply = await post('/api/save');
  if (page.phase.name === 'done') enter({ name: 'done', saving: false });
  if (reply.answered && reply.status === 200) {
    sayStatus(`saved as “${reply.body.label}” in ${reply.body.file}`);
    await listResults();
  } else sayError(`Save failed: ${reply.answered ? detailText(reply.body.detail) : reply.why}.`);
}
