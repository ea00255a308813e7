/**
 * The model every experiment is judged against.
 *
 * A pool of P threads serves N requests that each block for D: they run in waves of P, so the last one ends
 * after ceil(N / P) waves, each D long. FastAPI's `def` endpoints: P = 40, N = 100 → 3 waves → 9 s.
 * Awaiting a timer holds no thread at all: every request waits at once, one wave, D.
 * Blocking the event loop itself is a pool of one: N waves, N · D.
 */

/**
 * The blog's published figures: 100 concurrent requests to each endpoint, 3 s each, fired by 100 background
 * `curl` processes and timed with whole-second `date +%s`. It printed `ASYNC total time: 3s` and
 * `SYNC total time: 9s`. Ours are compared against these.
 */
export const BLOG = { requests: 100, delayMs: 3000, asyncSeconds: 3, syncSeconds: 9 };

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
  /** N: requests fired at once, each needing some CPU work. */
  requests: number;
  /** P: threads that may run at once. */
  poolSize: number;
  /** w: one request's work alone on a thread, ms (measured on the server: the median of single requests). */
  workMs: number;
  /**
   * The cores as the server gets them: each core's time for one request while every core is busy, ms, one entry
   * per core (measured by firing as many requests at once as there are cores). Equal cores: `idealCores(C, w)`.
   * They need not be equal: a core shared with a noisy neighbour, or a CPU quota, makes some slower.
   */
  coreMs: readonly number[];
}

/** C cores that each do one request of work w in w, busy or not: the textbook machine. */
export function idealCores(cores: number, workMs: number): number[] {
  return Array.from({ length: cores }, () => workMs);
}

/**
 * CPU work is not a sleep: threads beyond the cores share them. k requests started together on k threads take:
 *  - fewer than the cores: w, each has a core to itself;
 *  - as many as the cores: the slowest core's time, each core runs one;
 *  - more than the cores: k requests' work shared out over every core, k / Σ(1 / coreMs), and they end together.
 * A pool of P then serves N in waves of P, the last of N mod P. With exactly as many threads as cores each thread
 * keeps its core and takes the next request when it is done, so a faster core serves more of them. The speed-up
 * over the event loop (N · w) is bounded by the cores, not by the pool.
 */
export function predictCpuTotalMs({ requests, poolSize, workMs, coreMs }: CpuWorkload): number {
  if (requests <= 0) return 0;
  const cores = coreMs.length;
  if (!(poolSize >= 1 && cores >= 1)) throw new RangeError('poolSize and cores must be at least 1');
  if (poolSize < cores) return Math.ceil(requests / poolSize) * workMs;
  if (poolSize === cores) return requests < cores ? workMs : eachCoreTakesTheNext(requests, coreMs);
  const rest = requests % poolSize;
  return Math.floor(requests / poolSize) * waveMs(poolSize, workMs, coreMs) + (rest > 0 ? waveMs(rest, workMs, coreMs) : 0);
}

/** How long one wave of CPU work lasts (for the pictures): k = min(N, P) requests started together. */
export function predictCpuWaveMs({ requests, poolSize, workMs, coreMs }: CpuWorkload): number {
  return waveMs(Math.min(requests, poolSize), workMs, coreMs);
}

function waveMs(k: number, workMs: number, coreMs: readonly number[]): number {
  if (k < coreMs.length) return workMs;
  if (k === coreMs.length) return Math.max(...coreMs);
  return k / coreMs.reduce((rate, ms) => rate + 1 / ms, 0);
}

/** One thread per core, each taking the next request as soon as it is free: when the last one ends. */
function eachCoreTakesTheNext(requests: number, coreMs: readonly number[]): number {
  const free = coreMs.map(() => 0);
  let last = 0;
  for (let i = 0; i < requests; i++) {
    const core = free.indexOf(Math.min(...free));
    free[core]! += coreMs[core]!;
    last = Math.max(last, free[core]!);
  }
  return last;
}

/** What a model says of a burst that meets a limit beyond its pool: how many are served, refused, and when. */
export interface Refusals {
  served: number;
  /** Requests answered 503 at once; null where the model cannot say how many (it says why in `unpredictable`). */
  refused: number | null;
  /** The served requests' total; null where the refusals are not predicted either. */
  totalMs: number | null;
  /** Why the model does not predict the refusals here, in a sentence; absent where it does. */
  unpredictable?: string;
}

export interface QueuedWorkload extends Workload {
  poolSize: number;
  /** Q: requests that may wait for a place; beyond P + Q the server refuses (server.ts --queue). */
  queueLimit: number;
}

/**
 * A pool with a bounded queue (server.ts --queue, like uvicorn's --limit-concurrency): P run, Q wait, and every
 * request beyond P + Q is answered 503 at once. That holds while the whole burst arrives before the first wave
 * ends, that is while the server's intake is shorter than D: from then on each request that ends frees a place.
 * Give the intake (measured by the server, after the burst) and the model says whether it could predict.
 */
export function predictQueuedPool(
  { requests, poolSize, queueLimit, delayMs }: QueuedWorkload,
  intakeMs?: number | null,
): Refusals {
  const served = Math.min(requests, poolSize + queueLimit);
  const refused = requests - served;
  if (refused > 0 && intakeMs != null && intakeMs >= delayMs) {
    return {
      served,
      refused: null,
      totalMs: null,
      unpredictable: `the server took ${Math.round(intakeMs)} ms to take the burst in, longer than D (${delayMs} ms): requests that ended freed places for later ones`,
    };
  }
  return { served, refused, totalMs: predictTotalMs({ requests: served, poolSize, delayMs }) };
}

export interface LimitedPoolWorkload extends Workload {
  poolSize: number;
  /** L: connections the database lets this client open (max_connections minus the slots reserved for others). */
  connectionLimit: number;
  /** r: how long the database takes to refuse one connection beyond L (authentication included), ms, measured in the same run. */
  refusalMs: number;
}

/**
 * A connection pool in front of a database that allows fewer connections than the pool wants. While P ≤ L it is
 * the waves model. With P > L, L connections are open (warmed one at a time before the burst) and serve one wave of
 * D; every other request waits in the pool's queue while the pool tries to open a connection for it, P − L
 * attempts at a time, and each is refused (node-postgres does not retry: the refusal is that request's answer).
 * PostgreSQL refuses a role beyond its limit only once it has authenticated it (it must know the role is not a
 * superuser), and the server's one event loop does node-postgres' half of every handshake, so the refusals come
 * about one after another, r each: N − L of them take (N − L) · r. They are all answered at once beside D as long as
 * that ends well within the first wave (half of D); past that, a connection the first wave frees serves some of the
 * waiting requests instead, and how many is a race: the model says so rather than guess.
 */
export function predictLimitedPool({ requests, poolSize, connectionLimit, delayMs, refusalMs }: LimitedPoolWorkload): Refusals {
  if (poolSize <= connectionLimit)
    return { served: requests, refused: 0, totalMs: predictTotalMs({ requests, poolSize, delayMs }) };
  const served = Math.min(requests, connectionLimit);
  const waiting = requests - served;
  if (waiting > 0 && waiting * refusalMs >= delayMs / 2) {
    return {
      served: connectionLimit,
      refused: null,
      totalMs: null,
      unpredictable: `refusing ${waiting} connections of ${Math.round(refusalMs)} ms each takes about ${Math.round(waiting * refusalMs)} ms, not well within D (${delayMs} ms): the first wave frees connections for some of them`,
    };
  }
  return { served, refused: waiting, totalMs: served > 0 ? delayMs : 0 };
}

export interface ChainWorkload {
  /** n_k: the requests each process got, its share of the burst (read from the X-Worker header of every answer). */
  requests: readonly number[];
  /**
   * c_k: the connections each process's pool had open when the burst came: its P where the database (or the pooler)
   * let it open them all, fewer where it refused the rest (read from each process's /stats).
   */
  connections: readonly number[];
  /** P: each process's pool size (--db-pool): a process with fewer connections open tries to open more, and is refused. */
  poolSize: number;
  /** B: a pooler's pool of server connections, shared by every process (PgBouncer's default_pool_size); null: none. */
  poolerPoolSize: number | null;
  delayMs: number;
  /** r: how long the database takes to refuse one connection, ms (see predictLimitedPool). */
  refusalMs: number;
}

/**
 * A chain: K processes, each with its own pool of P database connections, maybe a pooler's pool of B in front of the
 * database, and the database's limit behind them all. Whatever the chain, the smallest pool in it sets the waves.
 *
 *  - Refusals, per process. A process whose pool opened all P connections queues what it cannot serve. A process that
 *    opened only c_k < P (the database, or the pooler, refused the rest at start) serves c_k at once and tries to
 *    open a connection for each request beyond them, which the full database refuses: n_k − c_k answered 503, as for
 *    one pool beyond the limit (predictLimitedPool, with c_k for L), and as long as those refusals, one after another
 *    on that process's loop, end well within the first wave.
 *  - Waves, for the requests served. Each process lends its c_k connections in turn; behind a pooler each query then
 *    waits, first come first served, for one of the B server connections. So with a pooler the waves are B wide while
 *    the pooler's queue holds B or more, but not always ceil(N / B): a process whose connections all wait in the
 *    pooler's queue sends nothing new, and its own queue can outlast the others' (n = 20 and 10 on P = 10 behind
 *    B = 15 take three waves, not two). Simulated wave by wave, in the order the primary deals the requests
 *    (round-robin: the first of each process, then the second of each, …). Without a pooler it is ceil(n_k / c_k)
 *    waves for each process, the slowest setting the total.
 */
export function predictChain(workload: ChainWorkload): Refusals & { waves: number[] } {
  const { requests, connections, poolSize, poolerPoolSize, delayMs, refusalMs } = workload;
  if (requests.length !== connections.length) throw new RangeError('one count of connections per process');
  const served = requests.map((n, k) => (connections[k]! < poolSize ? Math.min(n, connections[k]!) : n));
  const refused = requests.reduce((sum, n, k) => sum + n - served[k]!, 0);
  for (const [k, n] of requests.entries()) {
    const alone = predictLimitedPool({ requests: n, poolSize, connectionLimit: connections[k]!, delayMs, refusalMs });
    if (alone.unpredictable) return { ...alone, served: sum(served), refused: null, totalMs: null, waves: [] };
  }
  const waves = chainWaves(served, connections, poolerPoolSize ?? Number.POSITIVE_INFINITY);
  return { served: sum(served), refused, totalMs: waves.length * delayMs, waves };
}

/** How many queries end in each wave: each process lends its connections in turn, the pooler runs B of them at once. */
function chainWaves(served: readonly number[], connections: readonly number[], poolerPoolSize: number): number[] {
  const waiting = [...served];
  // The pooler's queue, by process: each process first sends as many as it has connections, dealt round-robin.
  const queue: number[] = [];
  for (let turn = 0; queue.length < sum(served.map((n, k) => Math.min(n, connections[k]!))); turn++) {
    for (const [k, c] of connections.entries()) {
      if (turn < c && waiting[k]! > 0) {
        queue.push(k);
        waiting[k]!--;
      }
    }
  }
  const waves: number[] = [];
  while (queue.length > 0) {
    const running = queue.splice(0, Math.min(poolerPoolSize, queue.length));
    waves.push(running.length);
    // Each query that ended gives its process's connection to the next request it holds, at the back of the queue.
    for (const k of running) {
      if (waiting[k]! > 0) {
        queue.push(k);
        waiting[k]!--;
      }
    }
  }
  return waves;
}

const sum = (values: readonly number[]) => values.reduce((total, n) => total + n, 0);
