// @ts-check
/**
 * Replay: a burst recorded in any results file (the --out folder's, or the committed results/) drawn as it
 * happened, from its requests' start and end offsets (and its gauges, where recorded), at 1×, 4× or 16×.
 */
import { elements } from './elements.js';
import { enter, page, sayError, sayStatus } from './state.js';
import { ask, detailText } from './api.js';
import { finish, startView } from './picture.js';
import { closeBar } from './timeline.js';

/** @typedef {import('./state.js').LiveMeasurement} LiveMeasurement */

/** The files a burst can be replayed from, in the replay form. @returns {Promise<{ file: string, labels: string[] }[]>} */
export async function listResults() {
  const reply = await ask('/api/results');
  if (!reply.answered || reply.status !== 200) {
    sayError(`The recorded bursts could not be listed: ${reply.answered ? detailText(reply.body.detail) : reply.why}.`);
    return [];
  }
  const files = /** @type {{ file: string, labels: string[] }[]} */ (reply.body.files);
  elements.replayFile.replaceChildren(...files.map((f) => new Option(f.file, f.file)));
  const fillLabels = () => {
    const labels = files.find((f) => f.file === elements.replayFile.value)?.labels ?? [];
    elements.replayLabel.replaceChildren(...labels.map((label) => new Option(label, label)));
  };
  elements.replayFile.onchange = fillLabels;
  fillLabels();
  return files;
}

/** @param {string} file @param {string} label @param {number} speed */
export async function replay(file, label, speed) {
  if (!['idle', 'done', 'failed'].includes(page.phase.name)) {
    sayError('A burst is running: replay when it has ended.');
    return;
  }
  const reply = await ask(`/api/results/${encodeURIComponent(file)}`);
  if (!reply.answered || reply.status !== 200) {
    sayError(
      reply.answered ? `No results file ${file} to replay (${detailText(reply.body.detail)}).` : `Replay failed: ${reply.why}.`,
    );
    return;
  }
  const results = /** @type {{ experiment: string, measurements: LiveMeasurement[] }} */ (reply.body);
  const m = results.measurements.find((x) => x.label === label);
  if (!m) {
    sayError(`${file} has no measurement labelled "${label}".`);
    return;
  }
  page.follow.others = false;
  page.follow.burst = null;
  const view = startView({
    kind: 'replay',
    id: null,
    label: `${results.experiment} · ${m.label} (replay${speed === 1 ? '' : `, ${speed}×`})`,
    endpoint: m.endpoint,
    scenario: m.settings ? (page.scenarios[m.settings.scenario] ?? null) : null,
    settings: m.settings ?? null,
    model: {
      predictedMs: m.predictedMs,
      boundariesMs: m.boundariesMs ?? boundariesOf(m),
      formula: m.formula ?? `recorded by ${results.experiment}`,
    },
    n: m.requests.length,
  });
  for (const r of m.requests) view.starts.set(r.id, r.startMs);
  const records = [...m.requests].sort((a, b) => a.endMs - b.endMs);
  const lastMs = Math.max(0, ...m.requests.map((r) => r.endMs));
  const began = performance.now();
  let next = 0;
  view.replay = {
    began,
    speed,
    // The replay's clock moves on: the answers and gauges recorded up to now arrive.
    advance: () => {
      const now = (performance.now() - began) * speed;
      for (let record = records[next]; record && record.endMs <= now; record = records[++next]) {
        view.ends.set(record.id, record);
        closeBar(view, record);
      }
      view.samples = (m.samples ?? []).filter((s) => s.atMs <= now);
      if (m.poolSteps) view.pool = { steps: m.poolSteps.filter((s) => s.atMs <= now), untilMs: now };
      if (now >= lastMs && next === records.length) {
        delete view.replay;
        finish(m);
        sayStatus('replayed');
      }
    },
  };
  sayStatus(`replaying ${file}, ${label}`);
  enter({ name: 'replaying' });
}

/** Ends of a recorded burst whose model drew no boundaries: multiples of D up to the model's total. @param {LiveMeasurement} m */
function boundariesOf(m) {
  if (!m.predictedMs || !m.delayMs) return [];
  const count = Math.min(200, Math.round(m.predictedMs / m.delayMs));
  return Array.from({ length: count }, (_, i) => (i + 1) * m.delayMs);
}
