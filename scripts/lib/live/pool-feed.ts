/**
 * The live page's pool gauges, exact: server.ts records every task of its pools (a thread of its worker pool, a
 * connection of its database pool: queued, started, ended, each on its own clock) and hands out the changes since
 * a cursor (GET /stats/tasks, every process of a --workers group merged; server/task-log.ts). Read while a burst runs
 * and after it, until the server is idle, each change becomes a step of its link's gauge on the burst's clock: so a
 * gauge steps where the bars end, and the picture ends where the server is, not where a sample last saw it.
 *
 * The clocks: the server stamps a change with epoch ms (performance.timeOrigin + performance.now() in its process);
 * this process's burst clock is performance.now() since its first request was written. Both are read from the
 * machine's clock, but each process fixes its time origin once, at its start, and a long-running page and a new
 * server can disagree by what the system clock was slewed in between. So the offset is checked, as NTP does: each
 * answer carries the server's `now`, read between two readings of this process's own clock (ClockOffset).
 */
import { httpRequest } from '../client/http-get.ts';
import { round3 } from '../../../server/numbers.ts';
import { LINKS, epochNow, type CurrentCounts, type Link, type TaskChanges, type TaskEvent } from '../../../server/task-log.ts';
import type { PoolStep } from './events.ts';

/** How often the record is read while a burst runs: how far the drawn gauges may trail the bars (not how exact they are). */
export const READ_EVERY_MS = 100;

/** A change the server recorded, on the burst's clock; `set` stands for the server's own counts where changes were lost. */
interface Change {
  atMs: number;
  link: Link;
  task: string;
  event: TaskEvent | 'set';
  counts?: CurrentCounts;
  /** The order it was read in: the last tie-break. */
  read: number;
}
/** At one instant, a task is queued before it starts, and starts before it ends. */
const RANK: Record<Change['event'], number> = { set: 0, queued: 1, started: 2, ended: 3 };

/**
 * The gauges' steps, one per change, in the order the changes happened. Pure: fed the server's answers, it gives
 * steps (tested without a server). The server records a change when it hears of it, which is not always in the order
 * they happened: a pool thread stamps the moment it begins a task, and the event loop records it when it next looks,
 * perhaps after another task's end. So the steps are counted again from every change in time order, and an answer
 * says from which step on they differ from what was handed out before.
 */
export class PoolCounts {
  private baseline: CurrentCounts = idleCounts();
  private current: CurrentCounts = idleCounts();
  private readonly changes: Change[] = [];
  private steps: PoolStep[] = [];

  /** @param toBurstMs the server's epoch ms on the burst's clock */
  constructor(private readonly toBurstMs: (epochMs: number) => number) {}

  /** Where reading begins: the server's own counts at the first cursor. */
  begin(current: CurrentCounts): void {
    this.baseline = copy(current);
    this.current = copy(current);
  }

  /**
   * An answer's changes: the steps from index `from` on, all of them again where a change came in late with an
   * earlier time than some already handed out. After a reset (changes were lost), the server's counts stand at its
   * `now`.
   */
  apply(answer: TaskChanges): { from: number; steps: PoolStep[] } {
    const read = this.changes.length;
    if (answer.reset) {
      this.changes.push({
        atMs: this.toBurstMs(answer.now),
        link: 'pool',
        task: '',
        event: 'set',
        counts: copy(answer.current),
        read,
      });
    } else {
      for (const [i, change] of answer.changes.entries()) {
        const task = `${change.pid}.${change.task}`;
        this.changes.push({ atMs: this.toBurstMs(change.at), link: change.link, task, event: change.event, read: read + i });
      }
    }
    this.changes.sort((a, b) => a.atMs - b.atMs || RANK[a.event] - RANK[b.event] || a.read - b.read);
    this.current = copy(answer.current);
    const steps = this.count();
    let from = 0;
    while (from < this.steps.length && from < steps.length && sameStep(this.steps[from]!, steps[from]!)) from++;
    this.steps = steps;
    return { from, steps: steps.slice(from) };
  }

  /** Nothing running, nothing queued, in any link, by the server's own counts. */
  get idle(): boolean {
    return LINKS.every((link) => this.current[link].busy === 0 && this.current[link].queued === 0);
  }

  private count(): PoolStep[] {
    let counts = copy(this.baseline);
    /** Tasks seen queued and not yet started, and seen started and not yet ended (pid.task). */
    const waiting = new Set<string>();
    const running = new Set<string>();
    const steps: PoolStep[] = [];
    for (const change of this.changes) {
      const link = counts[change.link];
      switch (change.event) {
        case 'set':
          counts = copy(change.counts!);
          waiting.clear();
          running.clear();
          for (const each of LINKS) steps.push({ atMs: change.atMs, link: each, ...counts[each] });
          continue;
        case 'queued':
          link.queued++;
          waiting.add(change.task);
          break;
        case 'started':
          // One queued before reading began was among the first counts' queued.
          if (waiting.delete(change.task) || link.queued > 0) link.queued--;
          link.busy++;
          running.add(change.task);
          break;
        case 'ended':
          // A task that ends without having started left the queue (its client hung up).
          if (waiting.delete(change.task)) link.queued--;
          else if (running.delete(change.task) || link.busy > 0) link.busy--;
          else if (link.queued > 0) link.queued--;
          break;
      }
      steps.push({ atMs: change.atMs, link: change.link, ...link });
    }
    return steps;
  }
}

const idleCounts = (): CurrentCounts => ({ pool: { busy: 0, queued: 0 }, db: { busy: 0, queued: 0 } });
const copy = (counts: CurrentCounts): CurrentCounts => ({ pool: { ...counts.pool }, db: { ...counts.db } });
const sameStep = (a: PoolStep, b: PoolStep) =>
  a.atMs === b.atMs && a.link === b.link && a.busy === b.busy && a.queued === b.queued;

/**
 * The offset of the server's clock from this process's. An answer's `now` was read by the server between this
 * process's `sent` and `received`, so each answer bounds the offset to an interval; the intervals together bound it
 * best. Where zero is within them the clocks are taken to agree (the processes read the same system clock), else
 * the offset is the nearest value they allow.
 */
export class ClockOffset {
  private low = Number.NEGATIVE_INFINITY;
  private high = Number.POSITIVE_INFINITY;

  /** An answer whose `now` the server read between this process's `sent` and `received` (epoch ms). */
  observe(sent: number, received: number, serverNow: number): void {
    const low = Math.max(this.low, serverNow - received);
    const high = Math.min(this.high, serverNow - sent);
    // Intervals that exclude each other: a clock was stepped meanwhile; the newest answer is what holds now.
    [this.low, this.high] = low <= high ? [low, high] : [serverNow - received, serverNow - sent];
  }

  /** The server's clock minus this process's, ms: the value nearest zero the answers allow. */
  get offsetMs(): number {
    return Math.min(Math.max(0, this.low), this.high);
  }

  /** The server's epoch ms as this process's. */
  toLocal(serverEpochMs: number): number {
    return serverEpochMs - this.offsetMs;
  }

  /** How far off the estimate can be: the width of what the answers allow. */
  get boundMs(): number {
    return this.high - this.low;
  }
}

/** Reading the server's record of its tasks: a cursor, the clock's offset, and the counts so far. */
export class PoolFeed {
  private readonly clock = new ClockOffset();
  private readonly counts: PoolCounts;
  /** The burst's first request, as this process's epoch ms (NaN until the burst has started). */
  private burstEpochMs = Number.NaN;

  private constructor(
    private readonly baseUrl: string,
    private cursor: string,
  ) {
    this.counts = new PoolCounts((epochMs) => round3(this.clock.toLocal(epochMs) - this.burstEpochMs));
  }

  /** Starts reading at where the server's record stands now; null where the server keeps none (an older server.ts). */
  static async open(baseUrl: string): Promise<PoolFeed | null> {
    const feed = new PoolFeed(baseUrl, '');
    const first = await feed.ask(`${baseUrl}/stats/tasks`);
    if (first === null) return null;
    feed.counts.begin(first.current);
    feed.cursor = first.cursor;
    return feed;
  }

  /** The burst's clock starts: its first request was written at `startedAt` (this process's performance.now()). */
  startBurst(startedAt: number): void {
    this.burstEpochMs = performance.timeOrigin + startedAt;
  }

  /**
   * The changes since the last read: the gauges' steps from index `from` on (./PoolCounts), and how far they reach
   * on the burst's clock; null where the server did not answer.
   */
  async read(): Promise<{ from: number; steps: PoolStep[]; untilMs: number; idle: boolean } | null> {
    const answer = await this.ask(`${this.baseUrl}/stats/tasks?since=${encodeURIComponent(this.cursor)}`);
    if (answer === null) return null;
    this.cursor = answer.cursor;
    const { from, steps } = this.counts.apply(answer);
    return { from, steps, untilMs: round3(this.clock.toLocal(answer.now) - this.burstEpochMs), idle: this.counts.idle };
  }

  private async ask(url: string): Promise<TaskChanges | null> {
    const sent = epochNow();
    const answer = await httpRequest(url, { timeoutMs: 60_000 });
    const received = epochNow();
    if ('error' in answer || answer.status !== 200) return null;
    const body = JSON.parse(answer.body) as TaskChanges;
    this.clock.observe(sent, received, body.now);
    return body;
  }
}
