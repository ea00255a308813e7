/**
 * A page served on 127.0.0.1 is not private: every web page the user visits can send requests to it. Two kinds of
 * attack reach a local server, and this guard closes both, as Vite (`server.allowedHosts`), webpack-dev-server
 * (`allowedHosts`) and Jupyter do:
 *
 *  - **DNS rebinding**: a site makes its own name resolve to 127.0.0.1, and its scripts then read this page's API as
 *    same-origin. Its requests carry *its* name in `Host`; so only `127.0.0.1:PORT` and `localhost:PORT` are served.
 *  - **Cross-site requests (CSRF)**: a site POSTs here. A "simple" request (a form, or `fetch` with `mode:
 *    'no-cors'` and a `text/plain` body) needs no preflight, and a JSON parser that ignores the content type reads its
 *    body all the same. So a POST must say `Content-Type: application/json` (which no simple request can), and where
 *    the browser names the page that sent it (`Origin`), that page must be this one: `Origin: null` (a sandboxed
 *    frame, a file) is foreign too.
 *
 * Every refusal is a JSON `{"detail": …}` that says why, as the rest of the suite answers.
 */
import type { MiddlewareHandler } from 'hono';

/** The host names a page on 127.0.0.1 answers to, with its real port. */
export function allowedHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

/** Why a request may not reach the page, or null. `port` is the page's real port (known once it listens). */
export function refusalOf(
  request: { method: string; host: string | undefined; origin: string | undefined; contentType: string | undefined },
  port: number,
): { status: 403 | 415; detail: string } | null {
  const hosts = allowedHosts(port);
  const host = request.host?.toLowerCase();
  if (host === undefined || !hosts.includes(host)) {
    return {
      status: 403,
      detail: `Forbidden: this page answers only to ${hosts.join(' and ')}, not to Host "${request.host ?? ''}"`,
    };
  }
  if (request.method === 'GET' || request.method === 'HEAD') return null;
  const mediaType = request.contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    return { status: 415, detail: 'Unsupported Media Type: a POST to this page must be sent as Content-Type: application/json' };
  }
  if (request.origin !== undefined && request.origin !== `http://${host}`) {
    return { status: 403, detail: `Forbidden: a POST from another page (Origin "${request.origin}") is refused` };
  }
  return null;
}

/** The guard as Hono middleware, before every route (the page's files included). */
export function onlyThisPage(port: () => number): MiddlewareHandler {
  return async (c, next) => {
    const refusal = refusalOf(
      {
        method: c.req.method,
        host: c.req.header('host'),
        origin: c.req.header('origin'),
        contentType: c.req.header('content-type'),
      },
      port(),
    );
    if (refusal) return c.json({ detail: refusal.detail }, refusal.status);
    return next();
  };
}
