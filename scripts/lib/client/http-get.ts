/**
 * One HTTP request to a server, outside any burst: asking server.ts for its /stats, or whether anyone answers at
 * an address. node:http with no agent, so the connection closes after the answer (a connection left open would
 * be counted among the next burst's), and not fetch, which refuses some ports outright that a burst reaches.
 */
import { request } from 'node:http';
import { UserError } from '../core/outcomes.ts';

/** The answer (any status), or what went wrong instead, in a few words: a refusal's code, a timeout. */
export function httpRequest(
  url: string,
  { method = 'GET', timeoutMs = 10_000 } = {},
): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const asked = request(url, { method, agent: false, timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (text: string) => (body += text));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', () => resolve({ error: 'the answer was cut short' }));
    });
    asked.on('timeout', () =>
      asked.destroy(Object.assign(new Error('timeout'), { code: `no answer within ${timeoutMs / 1000} s` })),
    );
    asked.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    asked.end();
  });
}

/** A 200 JSON answer, or one sentence: a server that stopped answering is the user's to see, not a stack trace. */
export async function getJson<T>(url: string, method = 'GET'): Promise<T> {
  const answer = await httpRequest(url, { method });
  if ('error' in answer) throw new UserError(`the server at ${new URL(url).origin} stopped answering (${answer.error}).`);
  if (answer.status !== 200) throw new UserError(`${method} ${url} answered ${answer.status}.`);
  try {
    return JSON.parse(answer.body) as T;
  } catch {
    throw new UserError(`${method} ${url} did not answer JSON.`);
  }
}
