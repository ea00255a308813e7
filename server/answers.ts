/**
 * Answers in FastAPI's shape: `{"detail": …}` for every error, the 422 of `user_id: int`, 405 with Allow, and
 * a body even for requests Hono never sees. Kept apart so the routes only say what they do, not how they fail.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { RequestError } from '@hono/node-server';
import { decodeCursor } from './task-log.ts';

/**
 * Every answer says which process gave it (X-Worker: <pid>): with --workers K, the client can count who took
 * which requests, as it can with uvicorn --workers K through reference/x_worker.py.
 */
export const WORKER_HEADER = { 'X-Worker': String(process.pid) };
export const tagWithProcess: MiddlewareHandler = async (c, next) => {
  await next();
  c.header('X-Worker', WORKER_HEADER['X-Worker']);
};

/** What a route answers when its work did not run to its end (a full queue, a failed task, a database down). */
export class Failure {
  constructor(
    readonly status: 404 | 500 | 502 | 503 | 504,
    readonly detail: string,
    readonly headers?: Record<string, string>,
  ) {}
}

/** FastAPI's `user_id: int`: an integer, or a 422 with the body FastAPI (pydantic v2) sends. */
export function parseUserId(c: Context): number | Response {
  const input = c.req.param('user_id') ?? '';
  const loc = ['path', 'user_id'];
  if (!/^[+-]?\d+$/.test(input)) {
    const msg = 'Input should be a valid integer, unable to parse string as an integer';
    return c.json({ detail: [{ type: 'int_parsing', loc, msg, input }] }, 422);
  }
  const value = Number(input);
  // JSON numbers beyond 2^53 would be answered rounded; refuse them instead of echoing a different user.
  if (!Number.isSafeInteger(value)) {
    const le = Number.MAX_SAFE_INTEGER;
    const [type, msg, ctx] =
      value > 0
        ? ['less_than_equal', `Input should be less than or equal to ${le}`, { le }]
        : ['greater_than_equal', `Input should be greater than or equal to ${-le}`, { ge: -le }];
    return c.json({ detail: [{ type, loc, msg, input, ctx }] }, 422);
  }
  return value === 0 ? 0 : value; // no -0 in the body
}

/** GET /stats/tasks?since=CURSOR: the cursor's numbers, null without one, or a 422 as FastAPI would send it. */
export function parseCursor(c: Context): ReadonlyMap<number, number> | null | Response {
  const input = c.req.query('since');
  if (input === undefined) return null;
  const cursor = decodeCursor(input);
  if (cursor !== null) return cursor;
  const msg = 'Value error, not a cursor that GET /stats/tasks gave';
  return c.json({ detail: [{ type: 'value_error', loc: ['query', 'since'], msg, input }] }, 422);
}

/** Work that did not run to its end, answered in FastAPI's shape. */
export function answerFailure(c: Context, failure: Failure): Response {
  return c.json({ detail: failure.detail }, failure.status, failure.headers);
}

/** FastAPI's answers for the paths no route takes, and for a route that throws. */
export function answerTheRestLikeFastApi(app: Hono): void {
  app.notFound((c) => c.json({ detail: 'Not Found' }, 404));
  answerOtherMethodsWith405(app);
  app.onError((error, c) => {
    console.error(error);
    return c.json({ detail: 'Internal Server Error' }, 500);
  });
}

/** Hono answers 404 for a known path with another method; FastAPI answers 405 with Allow. So do we. */
function answerOtherMethodsWith405(app: Hono): void {
  const methodsByPath = new Map<string, string[]>();
  // Middleware (app.use) is registered as method ALL: it is not a route.
  for (const route of app.routes.filter((r) => r.method !== 'ALL')) {
    methodsByPath.set(route.path, [...(methodsByPath.get(route.path) ?? []), route.method]);
  }
  for (const [path, methods] of methodsByPath) {
    app.all(path, (c) => c.json({ detail: 'Method Not Allowed' }, 405, { Allow: methods.join(', ') }));
  }
}

/** A request Hono cannot turn into a URL (no Host header, `OPTIONS *`, a bad Host): 400 in FastAPI's shape. */
export function answerUnroutableRequest(error: unknown): Response {
  const status = error instanceof RequestError ? 400 : 500;
  if (status === 500) console.error(error);
  return new Response(JSON.stringify({ detail: STATUS_CODES[status] }), {
    status,
    headers: { 'Content-Type': 'application/json', ...WORKER_HEADER },
  });
}

/**
 * Bytes node:http cannot parse as a request (a malformed header, an unknown method, an over-long URL or header,
 * raw garbage) never reach Hono, and Node would answer a bare 400. Same statuses as Node, FastAPI's shape.
 */
export function answerUnparsableRequest(error: NodeJS.ErrnoException, socket: Duplex): void {
  // Node's own rule: write nothing if the client is gone or a response has already begun on this connection.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const status =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 431
      : error.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
        ? 413
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? 408
          : 400;
  const body = JSON.stringify({ detail: STATUS_CODES[status] });
  const head = `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nX-Worker: ${process.pid}\r\nContent-Length: ${Buffer.byteLength(body)}`;
  socket.end(`${head}\r\nConnection: close\r\n\r\n${body}`, () => socket.destroy());
}
