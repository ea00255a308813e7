/**
 * The worker-thread pool for blocking work: tinypool pinned to P threads, warm before the ready line, with a
 * queue limit, cancellation when the client goes away, failures answered instead of thrown, and its counters.
 * Apart from the routes because none of this is what a route shows, only what it stands on.
 */
import Tinypool from 'tinypool';
import { Failure } from './answers.ts';
import { round3 } from './numbers.ts';
import type { TaskLog } from './task-log.ts';
import type { RequestScope } from './timing.ts';

/** The functions of server/pool-tasks.js a request may run. */
export type PoolTask = 'blockingSleep' | 'cpuWork' | 'hashSync' | 'throwInThread' | 'exitThread';

export interface PoolStats {
  poolSize: number;
  threadsAlive: number;
  /** Blocking tasks running on a thread right now. */
  activeTasks: number;
  /** Blocking tasks waiting for a free thread. */
  queuedTasks: number;
  queueLimit: number;
  /** Blocking tasks finished since the server started (run to the end). */
  completed: number;
  /** Answered 503 because the queue was full. */
  rejected: number;
  /** Removed from the queue or stopped mid-sleep because their client went away. */
  cancelled: number;
  /** Thrown inside a thread, or the thread died. */
  failed: number;
  /** How long starting and warming every pool thread took, before the ready line, in ms. */
  poolWarmUpMs: number;
}

export interface BlockingPool {
  /** Resolves with undefined when the sleep ran, or with what to answer instead. */
  blockingSleep(ms: number, request: RequestScope): Promise<Failure | undefined>;
  /** Resolves with the work's hash, or with what to answer instead. */
  cpuWork(iterations: number, request: RequestScope): Promise<{ hash: number } | Failure>;
  /** The password hash of /hash-test as pbkdf2Sync on a pool thread, or what to answer instead. */
  hash(iterations: number, request: RequestScope): Promise<Failure | undefined>;
  /** Any task of pool-tasks.js, with the same queue limit, cancellation and failure answers. */
  run<T>(task: PoolTask, input: unknown, request: RequestScope): Promise<T | Failure>;
  stats(): PoolStats;
  destroy(): Promise<void>;
}

/** The answer beyond the queue limit, as uvicorn's --limit-concurrency gives it: at once, come back later. */
const QUEUE_FULL = new Failure(503, 'Service Unavailable: the pool queue is full', { 'Retry-After': '1' });
const CLIENT_GONE = new Failure(503, 'Client disconnected');
const SHUTTING_DOWN = new Failure(503, 'Service Unavailable: the server is shutting down');
const TASKS_FILE = new URL('./pool-tasks.js', import.meta.url).href;

/**
 * Starts `size` threads and returns once every one of them has run a task (warm), never before. Each task is
 * recorded in `log` (queued, started, ended) and its wait and run go into its request's Server-Timing.
 */
export async function startBlockingPool(size: number, queueLimit: number, log: TaskLog): Promise<BlockingPool> {
  const warmUpStart = performance.now();
  const pool = new Tinypool({
    filename: TASKS_FILE,
    // Pinned: tinypool would otherwise size the pool by CPU count and end idle threads at once.
    minThreads: size,
    maxThreads: size,
    idleTimeout: Infinity,
    // The queue is ours (below): tinypool is only ever given a task when a thread is free.
    maxQueue: size,
    // Threads would inherit tsx's loader flags from this process; they run plain JS and need none.
    execArgv: [],
    // Without a cap each thread's V8 heap is sized from the machine's memory (≈4 GB here), and at a limit
    // of 2 GB or more every thread holds ≈0.75 MB more: 30 MB over 40 threads (measured: 390 vs 360 MB
    // warm). No task here comes near 256 MB; a runaway one now ends its own thread, not the machine.
    resourceLimits: { maxOldGenerationSizeMb: 256 },
    // On Deno (2.9) an idle thread parked in tinypool's Atomics.wait loop never picks up its next message: with two
    // tasks at once the second never ran, and the warm-up below hung. Without atomics each thread waits on its
    // message port instead; Node and Bun keep tinypool's default. (Bun ignores resourceLimits altogether.)
    useAtomics: !process.versions.deno,
  });
  // tinypool emits 'error' when a thread dies with no task on it; unheard, that would take the server down.
  pool.on('error', (error: Error) => console.error(`pool thread failed: ${error.message}`));

  // Each warm-up task waits for all the others, so `size` of them occupy `size` distinct threads.
  const arrivals = new SharedArrayBuffer(4);
  const warm = await Promise.all(
    Array.from({ length: size }, () => pool.run({ arrivals, parties: size, timeoutMs: 60_000 }, { name: 'warmUpBarrier' })),
  );
  if (!warm.every(Boolean)) throw new Error('The pool threads did not all start within 60 s.');
  const watchNewThreads = failTasksOfExitedThreads(pool);
  watchNewThreads();
  const poolWarmUpMs = round3(performance.now() - warmUpStart);

  const counts = { rejected: 0, cancelled: 0, failed: 0, completed: 0 };
  const queue = createThreadQueue(size);

  /** Runs one task of pool-tasks.js on a pool thread; a failure becomes the answer to send instead. */
  async function run<T>(task: PoolTask, input: unknown, { clientGone, timing }: RequestScope): Promise<T | Failure> {
    // A full queue is answered at once; the client may come back later.
    if (queue.full(queueLimit)) {
      counts.rejected++;
      return QUEUE_FULL;
    }
    const record = log.queue('pool');
    const started = new SharedArrayBuffer(16);
    let admitted: Admission = 'closed';
    try {
      admitted = await queue.admit(clientGone);
      // The client went away while it waited: it was taken out of the queue, and nobody reads the answer.
      if (admitted === 'left') {
        counts.cancelled++;
        return CLIENT_GONE;
      }
      if (admitted === 'closed') return SHUTTING_DOWN;
      // The thread says when it began (pool-tasks.js, timedTask): the record starts then, not at the hand-over.
      void whenThreadBegins(started).then((at) => at !== null && log.start(record, at));
      const result = (await pool.run({ task, input, started }, { name: 'timedTask', signal: clientGone })) as T;
      counts.completed++;
      return result;
    } catch (error) {
      // The client went away while it ran: tinypool ended its thread (and starts another).
      if (clientGone.aborted) {
        counts.cancelled++;
        return CLIENT_GONE;
      }
      if (/Terminating worker thread/.test(String(error))) return SHUTTING_DOWN;
      counts.failed++;
      console.error(`blocking task failed: ${(error as Error).message}`);
      return new Failure(500, 'Internal Server Error: the blocking task failed');
    } finally {
      // A short task can end before the news of its start has reached this thread: read it here, then stop waiting.
      const at = threadBeganAt(started);
      if (at !== null) log.start(record, at);
      Atomics.notify(new Int32Array(started, 0, 1), 0);
      log.end(record);
      timing.addTask(record, 'pool-wait', 'pool-run');
      if (admitted === 'admitted') queue.release();
      // A task that was aborted or failed had its thread replaced: watch the new one too.
      watchNewThreads();
    }
  }

  return {
    async blockingSleep(ms, request) {
      const outcome = await run<number>('blockingSleep', ms, request);
      return outcome instanceof Failure ? outcome : undefined;
    },
    async cpuWork(iterations, request) {
      const outcome = await run<number>('cpuWork', iterations, request);
      return outcome instanceof Failure ? outcome : { hash: outcome };
    },
    async hash(iterations, request) {
      const outcome = await run<number>('hashSync', iterations, request);
      return outcome instanceof Failure ? outcome : undefined;
    },
    run,
    stats() {
      return {
        poolSize: size,
        threadsAlive: pool.threads.length,
        activeTasks: queue.running(),
        queuedTasks: queue.waiting(),
        queueLimit,
        ...counts,
        poolWarmUpMs,
      };
    },
    async destroy() {
      queue.close();
      await pool.destroy();
    },
  };
}

/** How a task's wait for a thread ended: it got one, its client left first, or the pool is shutting down. */
type Admission = 'admitted' | 'left' | 'closed';

/**
 * The pool's own first-in-first-out queue: a task is handed to tinypool only when one of the `size` threads is
 * free, so it starts at once, and a task whose client leaves while it waits is simply taken out (a Map keeps the
 * order of arrival and deletes in O(1)). The queue limit is counted here too.
 */
function createThreadQueue(size: number) {
  let running = 0;
  let nextId = 0;
  const waiting = new Map<number, (admission: Admission) => void>();
  let closed = false;
  return {
    full: (limit: number) => running >= size && waiting.size >= limit,
    running: () => running,
    waiting: () => waiting.size,
    /** Resolves once the task has a thread to itself, or its client left first, or the pool closed. */
    admit(clientGone: AbortSignal): Promise<Admission> {
      if (closed) return Promise.resolve('closed');
      if (clientGone.aborted) return Promise.resolve('left');
      if (running < size && waiting.size === 0) {
        running++;
        return Promise.resolve('admitted');
      }
      const id = nextId++;
      return new Promise((resolve) => {
        const leave = () => {
          if (waiting.delete(id)) resolve('left');
        };
        clientGone.addEventListener('abort', leave, { once: true });
        waiting.set(id, (admission) => {
          clientGone.removeEventListener('abort', leave);
          resolve(admission);
        });
      });
    },
    /** A task gave its thread back: the longest waiting gets it (the count moves over before anyone else can look). */
    release() {
      running--;
      const next = waiting.entries().next();
      if (next.done) return;
      const [id, admit] = next.value;
      waiting.delete(id);
      running++;
      admit('admitted');
    },
    /** Shutting down: every waiting task is answered at once. */
    close() {
      closed = true;
      for (const admit of waiting.values()) admit('closed');
      waiting.clear();
    },
  };
}

/**
 * When the thread began the task, as soon as it has (the epoch ms timedTask in pool-tasks.js wrote into `started`),
 * or null where it never did (the run ended first and stopped the wait).
 */
async function whenThreadBegins(started: SharedArrayBuffer): Promise<number | null> {
  const flag = new Int32Array(started, 0, 1);
  // ES2024's Atomics.waitAsync (Node ≥ 16, Bun, Deno); this project's TypeScript library is ES2023.
  const { value } = (Atomics as unknown as AtomicsWithWaitAsync).waitAsync(flag, 0, 0);
  await value;
  return threadBeganAt(started);
}

function threadBeganAt(started: SharedArrayBuffer): number | null {
  return Atomics.load(new Int32Array(started, 0, 1), 0) === 1 ? round3(new Float64Array(started, 8, 1)[0]!) : null;
}

interface AtomicsWithWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number): { async: boolean; value: Promise<string> | string };
}

/**
 * Guards against tinypool's known hang: a thread that exits mid-task (process.exit() in the task, a native
 * crash) leaves that task's run() unsettled forever and the dead thread counted in the pool. tinypool's own
 * child_process runtime turns an unexpected exit into an 'error' on the worker, which fails the task and
 * starts a replacement; this does the same for threads. A thread tinypool ended itself (abort, destroy, after
 * an error) has left pool.threads before it exits, so it is left alone. Returns a function that starts
 * watching threads added since the last call.
 */
function failTasksOfExitedThreads(pool: Tinypool): () => void {
  const watched = new WeakSet<object>();
  return () => {
    for (const thread of pool.threads) {
      if (watched.has(thread)) continue;
      watched.add(thread);
      thread.once('exit', (code: number) => {
        if (pool.threads.includes(thread)) thread.emit('error', new Error(`pool thread exited with code ${code} mid-task`));
      });
    }
  };
}
