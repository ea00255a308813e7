/**
 * The shape every experiment route shares with the blog's two: FastAPI's `user_id: int`, a START and an END
 * line with the time, the body `{"user": <id>, "status": "done"}`, and a Server-Timing header saying where the
 * request's time went. One definition, so each route in server.ts is only the kind of waiting it shows.
 */
import type { Handler } from 'hono';
import { answerFailure, Failure, parseUserId } from './answers.ts';
import { RequestTiming, type MetricName, type RequestScope } from './timing.ts';

/** What a route's work is given: the id, when its client hangs up, and where to say how long each link took. */
export interface ServedRequest extends RequestScope {
  userId: number;
}

/** What a route's work may give: nothing, fields to add to the body, or what to answer instead. */
export type Work = (request: ServedRequest) => unknown;

/** Turns `work` into a route handler: validate the id, START, await the work, END, answer with its timing. */
export function blogEndpoint(quiet: boolean): (work: Work) => Handler {
  const log = (event: 'START' | 'END', path: string) => {
    if (!quiet) console.log(`${new Date().toISOString()} ${event.padEnd(5)} ${path}`);
  };
  return (work) => async (c) => {
    const userId = parseUserId(c);
    if (typeof userId !== 'number') return userId;
    log('START', c.req.path);
    const timing = new RequestTiming();
    const outcome = await work({ userId, clientGone: c.req.raw.signal, timing });
    const header = timing.header();
    if (header !== null) c.header('Server-Timing', header);
    if (outcome instanceof Failure) return answerFailure(c, outcome);
    log('END', c.req.path);
    return c.json({ user: userId, status: 'done', ...(isFields(outcome) ? outcome : {}) });
  };
}

/** Work that is one link, timed whole as one metric: a timer, a call upstream, work on the loop or libuv's threads. */
export function timed(metric: MetricName, work: Work): Work {
  return (request) => request.timing.measure(metric, () => work(request));
}

function isFields(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
