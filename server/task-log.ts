/**
 * One record per task of the server's pools — the worker-thread pool ('pool') and the database connections
 * ('db') — and the log of their changes that GET /stats/tasks hands out since a cursor. A task is queued, then
 * started (it got a thread, a connection), then ended; one abandoned while queued ends without starting. Every time
 * is epoch ms on this machine's clock (`performance.timeOrigin + performance.now()`, to the µs), so another process
 * on the machine (the live page's) can map it onto its own.
 *
 * The same records give each answer its Server-Timing (./timing.ts): the wait is started − queued, the work
 * ended − started. The log is bounded: a fixed number of changes kept per process, in typed arrays allocated once,
 * so a burst of any size costs the same memory; a reader whose cursor fell out of it is told so (`reset`) and gets
 * the current counts to start again from.
 */
import { round3 } from './numbers.ts';

export const LINKS = ['pool', 'db'] as const;
export type Link = (typeof LINKS)[number];
export const TASK_EVENTS = ['queued', 'started', 'ended'] as const;
export type TaskEvent = (typeof TASK_EVENTS)[number];

/** One change, as GET /stats/tasks gives it. */
export interface TaskChange {
  /** The process whose pool it is (with --workers K, each worker has its own). */
  pid: number;
  link: Link;
  /** The task's number, unique within its process. */
  task: number;
  event: TaskEvent;
  /** Epoch ms, to the µs. */
  at: number;
}

/** A link's tasks right now: holding a thread or connection, and waiting for one. */
export interface LinkCounts {
  busy: number;
  queued: number;
}
export type CurrentCounts = Record<Link, LinkCounts>;

/** One task's record, kept by whoever runs it. */
export interface Task {
  readonly link: Link;
  readonly id: number;
  readonly queuedAt: number;
  startedAt: number | null;
  endedAt: number | null;
}

/** One process's changes since a sequence number: what a worker hands the primary, and the primary merges. */
export interface ProcessChanges {
  pid: number;
  /** The last change's sequence number in this process (changes are numbered from 1). */
  seq: number;
  /** Changes after the cursor's number were dropped from the log before they could be read. */
  reset: boolean;
  changes: TaskChange[];
  current: CurrentCounts;
}

/** Epoch ms now, to the µs: a clock every process on this machine shares. */
export function epochNow(): number {
  return round3(performance.timeOrigin + performance.now());
}

/**
 * Changes kept per process: 17 bytes each, 1.1 MB for 65 536, allocated once. A reader polling every 100 ms misses
 * nothing unless the process sees more than 65 536 changes (about 21 000 tasks queued, started and ended) between
 * two polls.
 */
export const DEFAULT_TASK_LOG_SIZE = 65_536;

export class TaskLog {
  private readonly at: Float64Array;
  private readonly taskIds: Float64Array;
  /** link index × 3 + event index. */
  private readonly kinds: Uint8Array;
  /** Sequence number of the last change recorded (0: none yet). */
  private seq = 0;
  private nextTaskId = 1;
  private readonly counts: CurrentCounts = { pool: { busy: 0, queued: 0 }, db: { busy: 0, queued: 0 } };

  constructor(
    readonly capacity = DEFAULT_TASK_LOG_SIZE,
    readonly pid = process.pid,
  ) {
    this.at = new Float64Array(capacity);
    this.taskIds = new Float64Array(capacity);
    this.kinds = new Uint8Array(capacity);
  }

  /** A new task, waiting for its link's resource from now (or from `at`). */
  queue(link: Link, at = epochNow()): Task {
    const task: Task = { link, id: this.nextTaskId++, queuedAt: at, startedAt: null, endedAt: null };
    this.counts[link].queued++;
    this.record(task, 'queued', at);
    return task;
  }

  /** The task got its thread or connection (at `at`, where whoever saw it start measured it). */
  start(task: Task, at = epochNow()): void {
    if (task.startedAt !== null || task.endedAt !== null) return;
    task.startedAt = at;
    this.counts[task.link].queued--;
    this.counts[task.link].busy++;
    this.record(task, 'started', at);
  }

  /** The task gave its thread or connection back, or left the queue without one. Once only. */
  end(task: Task, at = epochNow()): void {
    if (task.endedAt !== null) return;
    task.endedAt = at;
    if (task.startedAt === null) this.counts[task.link].queued--;
    else this.counts[task.link].busy--;
    this.record(task, 'ended', at);
  }

  current(): CurrentCounts {
    return { pool: { ...this.counts.pool }, db: { ...this.counts.db } };
  }

  /**
   * The changes after sequence number `since` that are still kept (0: from the first; null: none, only where the
   * log stands now). A number the log has already dropped changes after, or one it never reached (a cursor of an
   * earlier process with the same PID), gives every change kept and `reset`.
   */
  since(since: number | null): ProcessChanges {
    const oldest = Math.max(1, this.seq - this.capacity + 1);
    const base = { pid: this.pid, seq: this.seq, current: this.current() };
    if (since === null) return { ...base, reset: false, changes: [] };
    const reset = since < oldest - 1 || since > this.seq;
    const changes: TaskChange[] = [];
    for (let n = reset ? oldest : since + 1; n <= this.seq; n++) {
      const slot = (n - 1) % this.capacity;
      const kind = this.kinds[slot]!;
      changes.push({
        pid: this.pid,
        link: LINKS[Math.floor(kind / 3)]!,
        task: this.taskIds[slot]!,
        event: TASK_EVENTS[kind % 3]!,
        at: this.at[slot]!,
      });
    }
    return { ...base, reset, changes };
  }

  private record(task: Task, event: TaskEvent, at: number): void {
    const slot = this.seq++ % this.capacity;
    this.at[slot] = at;
    this.taskIds[slot] = task.id;
    this.kinds[slot] = LINKS.indexOf(task.link) * 3 + TASK_EVENTS.indexOf(event);
  }
}

// ─── GET /stats/tasks: its cursor, and the answer merged over the processes of a group ───────────────────────

/** The answer of GET /stats/tasks (server/README.md documents it). */
export interface TaskChanges {
  /** When this answer was made, epoch ms. */
  now: number;
  /** Opaque: pass it back as ?since= to get the changes after this answer's. */
  cursor: string;
  /** Changes were dropped from the kept log before this reader got them: start again from `current`. */
  reset: boolean;
  /** In the order they happened (by `at`). */
  changes: TaskChange[];
  /** Every process's counts now, added up. */
  current: CurrentCounts;
}

/** GET /stats/tasks: this process's answer, or (with --workers K, server/cluster.ts) the group's. */
export interface TaskChangesReader {
  /** The changes after `cursor` (null: none, only the counts and a cursor to start from). */
  read(cursor: ReadonlyMap<number, number> | null): TaskChanges | Promise<TaskChanges>;
}

/**
 * This process's changes after its number in `cursor`: a process the cursor does not name has had none read yet
 * (a worker started since, or a cursor of another server), so it gives every change it kept.
 */
export function localTaskChanges(log: TaskLog): TaskChangesReader & {
  since(cursor: ReadonlyMap<number, number> | null): ProcessChanges;
} {
  const since = (cursor: ReadonlyMap<number, number> | null) => log.since(cursor === null ? null : (cursor.get(log.pid) ?? 0));
  return { since, read: (cursor) => mergeTaskChanges([since(cursor)]) };
}

/** A cursor names, per process, the last change its reader has: `pid.seq` joined by `-`. */
export function encodeCursor(seqByPid: ReadonlyMap<number, number>): string {
  return [...seqByPid].map(([pid, seq]) => `${pid}.${seq}`).join('-');
}

/** The cursor's numbers, or null where the text is not a cursor. An empty text is a cursor of no process. */
export function decodeCursor(text: string): Map<number, number> | null {
  const seqByPid = new Map<number, number>();
  if (text === '') return seqByPid;
  for (const part of text.split('-')) {
    const match = /^(\d{1,10})\.(\d{1,15})$/.exec(part);
    if (!match) return null;
    seqByPid.set(Number(match[1]), Number(match[2]));
  }
  return seqByPid;
}

/**
 * One answer from every process's own (with --workers K, the primary merges the workers'; alone, a list of one):
 * changes in the order they happened, counts added up, the cursor naming each process's last change.
 */
export function mergeTaskChanges(perProcess: readonly ProcessChanges[], now = epochNow()): TaskChanges {
  const current: CurrentCounts = { pool: { busy: 0, queued: 0 }, db: { busy: 0, queued: 0 } };
  for (const p of perProcess) {
    for (const link of LINKS) {
      current[link].busy += p.current[link].busy;
      current[link].queued += p.current[link].queued;
    }
  }
  return {
    now,
    cursor: encodeCursor(new Map(perProcess.map((p) => [p.pid, p.seq]))),
    reset: perProcess.some((p) => p.reset),
    changes: perProcess.flatMap((p) => p.changes).sort((a, b) => a.at - b.at),
    current,
  };
}
