// @ts-check
/**
 * Requests to the script (scripts/live.ts), which never throw: a rejected fetch, an answer that is not JSON, an
 * abort, each comes back as a reply that says what happened, so no caller can be left half-way by an exception.
 */

/**
 * @typedef {{ answered: true, status: number, body: any }
 *   | { answered: false, aborted: boolean, why: string }} Reply
 * `answered`: the script answered with JSON (any status); otherwise `why` says what failed, in words for the page.
 */

/**
 * @param {string} path
 * @param {RequestInit} [init]
 * @returns {Promise<Reply>}
 */
export async function ask(path, init) {
  /** @type {Response} */
  let answer;
  try {
    answer = await fetch(path, init);
  } catch (error) {
    return failed(error, 'the script did not answer');
  }
  try {
    return { answered: true, status: answer.status, body: await answer.json() };
  } catch (error) {
    return failed(error, `the script answered ${answer.status} ${answer.statusText}, not JSON`);
  }
}

/** Every POST the page sends is JSON: the script refuses one that is not (another site's form or no-cors fetch). @param {string} path @param {unknown} [body] @param {AbortSignal} [signal] */
export function post(path, body = {}, signal) {
  return ask(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
}

/** @param {unknown} error @param {string} what @returns {Reply} */
function failed(error, what) {
  const aborted = error instanceof DOMException && error.name === 'AbortError';
  const reason = error instanceof Error ? error.message : String(error);
  return { answered: false, aborted, why: aborted ? 'asked again since' : `${what} (${reason})` };
}

/**
 * A refusal's `detail` in words: FastAPI-shaped, a sentence or a list of settings out of range.
 * @param {unknown} detail
 */
export function detailText(detail) {
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail))
    return detail.map((/** @type {{ msg?: string, input?: unknown }} */ e) => `${e.msg}, got "${e.input}".`).join(' ');
  return JSON.stringify(detail);
}
