/**
 * A runtime's hidden pool seen from outside (Linux, /proc): its threads counted by name where the runtime names them,
 * and the threads blocked in open() of a FIFO counted by where the kernel parks them. The second shows a pool larger
 * than the cores, which CPU work cannot: a thread waiting for a FIFO's writer burns nothing, so N such waits on P
 * threads come back in ceil(N / P) waves of whatever the writer waits between them.
 *
 * The FIFOs: a folder of them named 1, 2, … N (mkfifo), given to server.ts as --fifo-dir. Its k-th /fifo-test since
 * the last /stats/reset opens FIFO k; opening it for writing lets that reader go. Each round counts the threads
 * blocked (wchan `wait_for_partner`) and lets exactly that many readers go, the oldest first: the ones let go take the
 * next requests off the queue and block again, on FIFOs further on, which this round no longer touches.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether this machine can show threads from outside (/proc with per-thread names and wait channels). */
export const CAN_SEE_THREADS = existsSync('/proc/self/task');

/** The threads of `pid` by name (/proc/<pid>/task/<tid>/comm, at most 15 characters), e.g. { 'Bun Pool 0': 1, … }. */
export function threadsByName(pid: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const tid of tasksOf(pid)) {
    const name = readOrNull(`/proc/${pid}/task/${tid}/comm`)?.trim();
    if (name !== undefined) counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/** How many threads of `pid` have a name beginning with `prefix`. */
export function countThreadsNamed(pid: number, prefix: string): number {
  return Object.entries(threadsByName(pid))
    .filter(([name]) => name.startsWith(prefix))
    .reduce((sum, [, n]) => sum + n, 0);
}

/** All threads of `pid`. */
export function countThreads(pid: number): number {
  return tasksOf(pid).length;
}

/** Threads of `pid` blocked in open() of a FIFO that has no writer yet. */
export function threadsWaitingForAWriter(pid: number): number {
  return tasksOf(pid).filter((tid) => readOrNull(`/proc/${pid}/task/${tid}/wchan`) === 'wait_for_partner').length;
}

/** One round: the blocked readers counted, and as many let go. */
export interface FifoRound {
  /** ms from the burst's first request. */
  atMs: number;
  blocked: number;
  released: number;
}

/** N FIFOs in a temporary folder, for server.ts's --fifo-dir. */
export class FifoFolder {
  readonly dir: string;
  /** The oldest FIFO whose reader has not been let go in this burst. */
  private next = 1;

  constructor(readonly count: number) {
    this.dir = mkdtempSync(join(tmpdir(), 'fifos-'));
    const made = spawnSync(
      'mkfifo',
      Array.from({ length: count }, (_, i) => join(this.dir, String(i + 1))),
      { encoding: 'utf8' },
    );
    if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr || made.error?.message}`);
  }

  /**
   * Beside each burst (measure's `beside`): every `everyMs`, from the burst's first request, count the server's threads
   * blocked on a FIFO and let that many go. The rounds land in `rounds`, the latest burst's only.
   */
  releaseEvery(pid: number, everyMs: number, rounds: FifoRound[]): (startedAt: number) => () => void {
    return (startedAt) => {
      this.next = 1; // the server's reset before the burst started its FIFOs at 1 again
      rounds.length = 0;
      const timer = setInterval(() => {
        const blocked = threadsWaitingForAWriter(pid);
        rounds.push({ atMs: Math.round(performance.now() - startedAt), blocked, released: this.release(blocked) });
      }, everyMs);
      return () => clearInterval(timer);
    };
  }

  /**
   * Lets `count` readers go, the oldest first. A FIFO with nobody blocked on it yet (its request is still queued, or
   * the pool took it out of order) is skipped and tried again next round.
   */
  private release(count: number): number {
    let released = 0;
    for (let k = this.next; k <= this.count && released < count; k++) {
      try {
        closeSync(openSync(join(this.dir, String(k)), constants.O_WRONLY | constants.O_NONBLOCK));
        released++;
        if (k === this.next) this.next++;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENXIO') throw error; // ENXIO: no reader on it yet
      }
    }
    return released;
  }

  /** Lets every reader go (a writer held on each, so any open still to come returns too), then removes the folder. */
  remove(): void {
    const held: number[] = [];
    for (const name of readdirSync(this.dir)) held.push(openSync(join(this.dir, name), constants.O_RDWR | constants.O_NONBLOCK));
    for (const fd of held) closeSync(fd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function tasksOf(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
}

function readOrNull(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the thread ended meanwhile
  }
}
