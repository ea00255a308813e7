/**
 * A model of a server for find-pool's search in the test's own process: P places, each request holding one for D,
 * first come first served, each request taken by the server at its own time (its connect's completion: a slow intake
 * takes some late). What the raw client would record of it: each request's start, connect and end on the burst's clock.
 */
import type { BurstResult, RequestRecord } from '../scripts/lib/client/burst-types.ts';
import type { BurstSource } from '../scripts/lib/find-pool/search.ts';

export interface ModelServer {
  poolSize: number;
  delayMs: number;
  /** When the server takes request i (0-based) of a burst of n, ms from the burst's start (default: at once). */
  takenMs?: (i: number, n: number, burst: number) => number;
  /** Added to every request of burst `burst` (1-based): a busy moment of the machine. */
  lateBy?: (burst: number) => number;
  /** Each answer's Server-Timing `pool-wait` (the time it waited for a place, ms), as server.ts sends it; or what it says. */
  serverTiming?: (waitedMs: number) => number;
}

/** One burst of n against the model, requests still open at timeoutMs ended as timeouts. */
export function modelBurst(server: ModelServer, n: number, timeoutMs: number, burst = 1): BurstResult {
  const free = Array.from({ length: server.poolSize }, () => 0);
  const late = server.lateBy?.(burst) ?? 0;
  const order = Array.from({ length: n }, (_, i) => ({ i, takenMs: server.takenMs?.(i, n, burst) ?? 0.01 * i }));
  order.sort((a, b) => a.takenMs - b.takenMs || a.i - b.i);
  const requests: RequestRecord[] = [];
  for (const { i, takenMs } of order) {
    const place = free.indexOf(Math.min(...free));
    const servedMs = Math.max(takenMs, free[place]!);
    const endMs = servedMs + server.delayMs + late + (i % 7) * 0.3;
    free[place] = endMs;
    const startMs = 0.01 * i;
    const record: RequestRecord = { id: i + 1, startMs, endMs, status: 200, connectMs: Math.max(0.1, takenMs - startMs) };
    if (server.serverTiming)
      record.serverTiming = { 'pool-wait': server.serverTiming(servedMs - takenMs), 'pool-run': server.delayMs };
    requests[i] = endMs <= timeoutMs ? record : { ...record, endMs: timeoutMs, status: null, error: 'timeout' };
  }
  return { startedAt: 0, totalMs: Math.max(...requests.map((r) => r.endMs)), connectMs: null, requests };
}

/** The model as the search's source of bursts: its clock moves on by each burst's total. */
export function modelSource(server: ModelServer): BurstSource & { fired: number[] } {
  let clock = 0;
  const fired: number[] = [];
  return {
    fired,
    now: () => clock,
    fire: async (requests, timeoutMs) => {
      fired.push(requests);
      const burst = modelBurst(server, requests, timeoutMs, fired.length);
      clock += burst.totalMs;
      return burst;
    },
  };
}
