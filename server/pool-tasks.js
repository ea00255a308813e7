// @ts-check
import { pbkdf2Sync } from 'node:crypto';

/**
 * What runs inside a pool thread. server/pool.ts hands these functions to tinypool by name.
 *
 * Why plain JavaScript and not TypeScript: a choice, with its cost measured. tinypool starts each thread as a
 * bare Node worker; under tsx on Node 20 a worker only imports a `.ts` file if tsx's loader is registered in
 * that thread too, and doing so in each of 40 threads costs ~5x the warm-up and ~3x the memory. A JS file with
 * JSDoc types is type-checked by `npm run typecheck` all the same (`checkJs`), and the threads start with no loader.
 */

// One cell to wait on. Nobody ever notifies it, so every wait runs to its timeout.
const neverNotified = new Int32Array(new SharedArrayBuffer(4));

/**
 * Block this thread for `ms` milliseconds without spinning: the faithful twin of Python's `time.sleep`.
 * `Atomics.wait` parks the thread in the kernel, so a blocked thread costs no CPU, just like a thread in
 * FastAPI's pool sitting in `time.sleep(3)`.
 * @param {number} ms
 */
export function blockingSleep(ms) {
  Atomics.wait(neverNotified, 0, 0, ms);
  return ms;
}

/** The tasks a request may run, by name. */
const TASKS = { blockingSleep, cpuWork, hashSync, throwInThread, exitThread };

/**
 * Every request's task goes through here: it says when it began, on this machine's clock (epoch ms), into the
 * shared cell the server waits on (`Atomics.waitAsync`), then runs the named task. The server's record of the task
 * then starts when the thread really began it, not when it was handed over.
 * @param {{ task: keyof typeof TASKS, input: any, started: SharedArrayBuffer }} request
 */
export function timedTask({ task, input, started }) {
  new Float64Array(started, 8, 1)[0] = performance.timeOrigin + performance.now();
  const flag = new Int32Array(started, 0, 1);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
  return TASKS[task](input);
}

/**
 * Warm-up barrier: each call checks in and then waits until `parties` calls have checked in, so `parties`
 * concurrent calls are guaranteed to occupy `parties` distinct threads. server.ts runs one per thread
 * before it prints its ready line, so no burst ever pays for a cold thread.
 * @param {{ arrivals: SharedArrayBuffer, parties: number, timeoutMs: number }} task
 * @returns {boolean} false if the others did not arrive in time
 */
export function warmUpBarrier({ arrivals, parties, timeoutMs }) {
  const count = new Int32Array(arrivals);
  const deadline = Date.now() + timeoutMs;
  let seen = Atomics.add(count, 0, 1) + 1;
  if (seen >= parties) Atomics.notify(count, 0);
  while (seen < parties) {
    const left = deadline - Date.now();
    if (left <= 0) return false;
    Atomics.wait(count, 0, seen, left);
    seen = Atomics.load(count, 0);
  }
  return true;
}

/**
 * A fixed amount of real CPU work: `iterations` rounds of an integer hash. Deterministic, allocation-free,
 * and impossible for V8 to skip (the result is returned). scripts/cpu-bound.ts calibrates `iterations` so one
 * call takes ~200 ms on the machine at hand.
 * @param {number} iterations
 * @returns {number} the hash, so the work cannot be optimised away
 */
export function cpuWork(iterations) {
  let x = 0x9e3779b9;
  for (let i = 0; i < iterations; i++) {
    x ^= x >>> 15;
    x = Math.imul(x, 0x2c1b3c6d);
    x ^= x >>> 12;
    x = Math.imul(x, 0x297a2d39) + i;
  }
  return x >>> 0;
}

/**
 * The password hash of /hash-test, run here as pbkdf2Sync: the same CPU work, on a pool thread instead of one of
 * libuv's. Same parameters as server/libuv.ts uses for the async one.
 * @param {number} iterations
 * @returns {number} the first bytes of the key, so the work cannot be skipped
 */
export function hashSync(iterations) {
  return pbkdf2Sync('password', 'salt', iterations, 64, 'sha512').readUInt32BE(0);
}

// Fault injection, reachable only through server.ts --fault-routes (the reliability tests use it).

/** A task that throws, as a bug in blocking code would: tinypool rejects its run() and the thread goes on. */
export function throwInThread() {
  throw new Error('fault injected: the pool task threw');
}

/**
 * A thread that dies mid-task, as process.exit() or a native crash in blocking code would. tinypool alone
 * never settles such a task; server.ts turns the thread's exit into a failed task and a fresh thread.
 */
export function exitThread() {
  process.exit(3);
}
