/**
 * The slow API behind /upstream-test: an HTTP call with Node's own fetch, its failures answered 502 or 503 in
 * FastAPI's shape. Apart from the routes because a client of another service is its own concern: where it
 * points, and what a failure there means here.
 */
import { Failure } from './answers.ts';

export interface Upstream {
  /** GET <upstream>/asyncio-test/<id>: resolves when it answered 2xx, or with what to answer instead. */
  call(userId: number, clientGone: AbortSignal): Promise<Failure | undefined>;
}

const NOT_CONFIGURED = new Failure(
  503,
  'Service Unavailable: /upstream-test needs an upstream; start the server with --upstream-url (or UPSTREAM_URL)',
);

export function createUpstream(url: string | null): Upstream {
  if (url === null) return { call: async () => NOT_CONFIGURED };
  const base = url.replace(/\/+$/, '');
  return {
    async call(userId, clientGone) {
      // Node's fetch (undici) keeps connections to the upstream alive and, by default, opens as many as the
      // requests in flight need: no pool of its own limits them (scripts/real-io.ts measures it).
      try {
        const response = await fetch(`${base}/asyncio-test/${userId}`, { signal: clientGone });
        await response.arrayBuffer(); // read to the end, so the connection can be used again
        if (!response.ok) return new Failure(502, `Bad Gateway: the upstream answered ${response.status}`);
        return undefined;
      } catch (error) {
        if (clientGone.aborted) return new Failure(503, 'Client disconnected');
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        return new Failure(
          502,
          `Bad Gateway: the upstream could not be reached (${cause?.code ?? cause?.message ?? (error as Error).message})`,
        );
      }
    },
  };
}
