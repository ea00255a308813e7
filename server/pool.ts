/**
 * The worker-thread pool for blocking work: tinypool pinned to P threads, warm before the ready line, with a
 * queue limit, cancellation when the client goes away, failures answered instead of thrown, and its counters.
 * Apart from the routes because none of this is what a route shows, only what it stands on.
 */
import Tinypool from 'tinypool';
import { Failure } from './answers.ts';
import { round3 } from './numbers.ts';

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
  blockingSleep(ms: number, clientGone: AbortSignal): Promise<Failure | undefined>;
  /** Resolves with the work's hash, or with what to answer instead. */
  cpuWork(iterations: number, clientGone: AbortSignal): Promise<{ hash: number } | Failure>;
  /** The password hash of /hash-test as pbkdf2Sync on a pool thread, or what to answer instead. */
  hash(iterations: number, clientGone: AbortSignal): Promise<Failure | undefined>;
  /** Any task of pool-tasks.js, with the same queue limit, cancellation and failure answers. */
  run<T>(task: PoolTask, input: unknown, clientGone: AbortSignal): Promise<T | Failure>;
  stats(): PoolStats;
  destroy(): Promise<void>;
}

/** The answer beyond the queue limit, as uvicorn's --limit-concurrency gives it: at once, come back later. */
const QUEUE_FULL = new Failure(503, 'Service Unavailable: the pool queue is full', { 'Retry-After': '1' });
const TASKS_FILE = new URL('./pool-tasks.js', import.meta.url).href;

/** Starts `size` threads and returns once every one of them has run a task (warm), never before. */
export async function startBlockingPool(size: number, queueLimit: number): Promise<BlockingPool> {
  const warmUpStart = performance.now();
  const pool = new Tinypool({
    filename: TASKS_FILE,
    // Pinned: tinypool would otherwise size the pool by CPU count and end idle threads at once.
    minThreads: size,
    maxThreads: size,
    idleTimeout: Infinity,
    maxQueue: Math.max(queueLimit, 1),
    // Threads would inherit tsx's loader flags from this process; they run plain JS and need none.
    execArgv: [],
    // Without a cap each thread's V8 heap is sized from the machine's memory (≈4 GB here), and at a limit
    // of 2 GB or more every thread holds ≈0.75 MB more: 30 MB over 40 threads (measured: 390 vs 360 MB
    // warm). No task here comes near 256 MB; a runaway one now ends its own thread, not the machine.
    resourceLimits: { maxOldGenerationSizeMb: 256 },
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

  let inFlight = 0;
  const counts = { rejected: 0, cancelled: 0, failed: 0, completed: 0 };

  /** Runs one task of pool-tasks.js on a pool thread; a failure becomes the answer to send instead. */
  async function run<T>(task: PoolTask, input: unknown, clientGone: AbortSignal): Promise<T | Failure> {
    // A full queue is answered at once; the client may come back later.
    if (inFlight - size >= queueLimit) {
      counts.rejected++;
      return QUEUE_FULL;
    }
    inFlight++;
    try {
      const result = (await pool.run(input, { name: task, signal: clientGone })) as T;
      counts.completed++;
      return result;
    } catch (error) {
      // The client went away: tinypool dropped the queued task or ended its thread. Nobody reads the answer.
      if (clientGone.aborted) {
        counts.cancelled++;
        return new Failure(503, 'Client disconnected');
      }
      if (/queue is at limit/i.test(String(error))) {
        counts.rejected++;
        return QUEUE_FULL;
      }
      if (/Terminating worker thread/.test(String(error))) {
        return new Failure(503, 'Service Unavailable: the server is shutting down');
      }
      counts.failed++;
      console.error(`blocking task failed: ${(error as Error).message}`);
      return new Failure(500, 'Internal Server Error: the blocking task failed');
    } finally {
      inFlight--;
      // A task that was aborted or failed had its thread replaced: watch the new one too.
      watchNewThreads();
    }
  }

  return {
    async blockingSleep(ms, clientGone) {
      const outcome = await run<number>('blockingSleep', ms, clientGone);
      return outcome instanceof Failure ? outcome : undefined;
    },
    async cpuWork(iterations, clientGone) {
      const outcome = await run<number>('cpuWork', iterations, clientGone);
      return outcome instanceof Failure ? outcome : { hash: outcome };
    },
    async hash(iterations, clientGone) {
      const outcome = await run<number>('hashSync', iterations, clientGone);
      return outcome instanceof Failure ? outcome : undefined;
    },
    run,
    stats() {
      const queuedTasks = pool.queueSize;
      return {
        poolSize: size,
        threadsAlive: pool.threads.length,
        activeTasks: inFlight - queuedTasks,
        queuedTasks,
        queueLimit,
        ...counts,
        poolWarmUpMs,
      };
    },
    destroy: () => pool.destroy(),
  };
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
