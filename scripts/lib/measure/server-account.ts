/**
 * What server.ts's own /stats say about a burst, beside the client's total: how long its one event loop took to take
 * the requests in, and to write the answers out once the last timer was due. D + intake + output is what a total of
 * awaited timers holds; what is left is the client's.
 */
import { round3 } from '../../../server/numbers.ts';
import type { ServerStats } from '../../../server/stats-window.ts';

/** How long the server took to take a burst in: its first request's arrival to its last (from /stats); null without. */
export function intakeMs(stats: ServerStats | undefined): number | null {
  const arrivals = stats?.arrivals;
  return arrivals && arrivals.firstMs !== null && arrivals.lastMs !== null ? round3(arrivals.lastMs - arrivals.firstMs) : null;
}

/**
 * A total beside its model of waves and the server's own intake: total ÷ (model + intake). Where taking the burst in
 * is itself slow (several processes on few cores, or connections the database refuses one by one while the burst
 * comes in), the last request starts its wave that much late; null where the server does not say.
 */
export function ratioWithIntake(totalMs: number, modelMs: number | null, stats: ServerStats | undefined): number | null {
  const intake = intakeMs(stats);
  return modelMs === null || intake === null ? null : round3(totalMs / (modelMs + intake));
}

/** The server's own account of a burst of awaited timers of D, from its /stats: what a total holds besides the client. */
export interface Account {
  /** First arrival → last arrival: the one event loop reading N requests. */
  intakeMs: number;
  /** The last timer due (last arrival + D) → the last answer written: the loop writing N answers. */
  outputMs: number;
  /** D + intake + output. */
  accountedMs: number;
}

/** D + intake + output for one burst of awaited timers, or null where the server does not say (not server.ts). */
export function accountOf(stats: ServerStats | undefined, delayMs: number): Account | null {
  const intake = intakeMs(stats);
  const lastAnswer = stats?.answers?.lastMs ?? null;
  if (intake === null || lastAnswer === null || stats!.arrivals.lastMs === null) return null;
  const outputMs = round3(lastAnswer - (stats!.arrivals.lastMs + delayMs));
  return { intakeMs: intake, outputMs, accountedMs: round3(delayMs + intake + outputMs) };
}
