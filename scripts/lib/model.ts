/**
 * The model every experiment is judged against.
 *
 * A pool of P threads serves N requests that each block for D: they run in waves of P, so the last one ends
 * after ceil(N / P) waves, each D long. FastAPI's `def` endpoints: P = 40, N = 100 → 3 waves → 9 s.
 * Awaiting a timer holds no thread at all: every request waits at once, one wave, D.
 * Blocking the event loop itself is a pool of one: N waves, N · D.
 */

export interface Workload {
  /** N: requests fired at once. */
  requests: number;
  /** P: threads that may block at once; null where nothing limits them (an awaited timer). */
  poolSize: number | null;
  /** D: how long each request waits or blocks, in ms. */
  delayMs: number;
}

/** How many rounds of P the requests need. */
export function predictWaves({ requests, poolSize }: Workload): number {
  if (requests <= 0) return 0;
  if (poolSize === null) return 1;
  if (!(poolSize >= 1)) throw new RangeError(`poolSize must be at least 1, got ${poolSize}`);
  return Math.ceil(requests / poolSize);
}

/** The model's total time for the whole burst, first request sent → last response: ceil(N / P) · D. */
export function predictTotalMs(workload: Workload): number {
  return predictWaves(workload) * workload.delayMs;
}

export interface CpuWorkload {
  /** N: requests fired at once, each needing `workMs` of CPU. */
  requests: number;
  /** P: threads that may run at once. */
  poolSize: number;
  /** C: cores. */
  cores: number;
  /** w: CPU time one request needs, ms. */
  workMs: number;
}

/**
 * CPU work is not a sleep: threads beyond the cores share them. While P ≤ C each task has a core and the
 * waves model holds, ceil(N / P) · w. With more threads than cores the OS time-slices them, so every wave of P
 * tasks takes P · w / C, and a last wave of r tasks max(1, r / C) · w. The speed-up over the event loop (N · w)
 * is therefore min(N, P, C): bounded by the cores, not by the pool.
 */
/** How long one wave of CPU work lasts: w while a wave fits the cores, P · w / C when its P threads share C cores. */
export function predictCpuWaveMs({ requests, poolSize, cores, workMs }: CpuWorkload): number {
  return Math.max(1, Math.min(poolSize, requests) / cores) * workMs;
}

export function predictCpuTotalMs({ requests, poolSize, cores, workMs }: CpuWorkload): number {
  if (requests <= 0) return 0;
  if (!(poolSize >= 1 && cores >= 1)) throw new RangeError('poolSize and cores must be at least 1');
  if (Math.min(poolSize, requests) <= cores) return Math.ceil(requests / poolSize) * workMs;
  const fullWaves = Math.floor(requests / poolSize);
  const rest = requests % poolSize;
  return fullWaves * ((poolSize * workMs) / cores) + (rest > 0 ? Math.max(1, rest / cores) * workMs : 0);
}

export interface LimitedPoolWorkload extends Workload {
  poolSize: number;
  /** L: connections the database lets this client open (max_connections minus the slots reserved for others). */
  connectionLimit: number;
}

/**
 * A connection pool in front of a database that allows fewer connections than the pool wants. While P ≤ L it is
 * the waves model. With P > L, the first L connections open and every other request's connection is refused at
 * once (node-postgres does not retry: each refusal makes the pool try the next queued request, which is refused
 * too), so L requests run in one wave of D and N − L are answered 503 straight away.
 */
export function predictLimitedPool({ requests, poolSize, connectionLimit, delayMs }: LimitedPoolWorkload): { served: number; refused: number; totalMs: number } {
  if (poolSize <= connectionLimit) return { served: requests, refused: 0, totalMs: predictTotalMs({ requests, poolSize, delayMs }) };
  const served = Math.min(requests, connectionLimit);
  return { served, refused: requests - served, totalMs: served > 0 ? delayMs : 0 };
}
