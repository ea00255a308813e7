/**
 * The shape every experiment route shares with the blog's two: FastAPI's `user_id: int`, a START and an END
 * line with the time, and the body `{"user": <id>, "status": "done"}`. One definition, so each route in
 * server.ts is only the kind of waiting it shows.
 */
import type { Context, Handler } from 'hono';
import { answerFailure, Failure, parseUserId } from './answers.ts';

/** What a route's work may give: nothing, fields to add to the body, or what to answer instead. */
export type Work = (c: Context, userId: number) => unknown;

/** Turns `work` into a route handler: validate the id, START, await the work, END, answer. */
export function blogEndpoint(quiet: boolean): (work: Work) => Handler {
  const log = (event: 'START' | 'END', path: string) => {
    if (!quiet) console.log(`${new Date().toISOString()} ${event.padEnd(5)} ${path}`);
  };
  return (work) => async (c) => {
    const userId = parseUserId(c);
    if (typeof userId !== 'number') return userId;
    log('START', c.req.path);
    const outcome = await work(c, userId);
    if (outcome instanceof Failure) return answerFailure(c, outcome);
    log('END', c.req.path);
    return c.json({ user: userId, status: 'done', ...(isFields(outcome) ? outcome : {}) });
  };
}

function isFields(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
