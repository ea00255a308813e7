/**
 * Where one request's time went, link by link of the chain it passed through, said in the standard Server-Timing
 * header every browser's devtools show: `Server-Timing: pool-wait;dur=3000.2, pool-run;dur=3000.5`. A name ending
 * in -wait is time queued for a resource; the others are work. Where a link cannot split its waiting from its
 * work (libuv's threadpool), it has one metric for both. server/README.md lists the names.
 */
import { round3 } from './numbers.ts';
import type { Task } from './task-log.ts';

export const METRICS = {
  'pool-wait': 'queued for a pool thread',
  'pool-run': 'on a pool thread',
  'db-wait': 'queued for a database connection',
  'db-query': 'the query, on its connection',
  upstream: 'the call to the upstream API',
  timer: 'an awaited timer',
  libuv: "queued for and run on libuv's threadpool (it cannot tell the two apart)",
  'loop-block': 'blocking the event loop',
  'loop-cpu': 'CPU work on the event loop',
} as const;
export type MetricName = keyof typeof METRICS;

export class RequestTiming {
  private readonly metrics: [MetricName, number][] = [];

  add(name: MetricName, ms: number): void {
    this.metrics.push([name, ms]);
  }

  /** A task of a pool's records: its time queued, and, if it got its resource, its time holding it. */
  addTask(task: Task, wait: MetricName, work: MetricName): void {
    const end = task.endedAt ?? task.startedAt ?? task.queuedAt;
    this.add(wait, (task.startedAt ?? end) - task.queuedAt);
    if (task.startedAt !== null) this.add(work, end - task.startedAt);
  }

  /** Times `work` as one metric, whatever its outcome. */
  async measure<T>(name: MetricName, work: () => T | Promise<T>): Promise<T> {
    const began = performance.now();
    try {
      return await work();
    } finally {
      this.add(name, performance.now() - began);
    }
  }

  /** The header's value, or null where the request neither waited nor worked. */
  header(): string | null {
    if (this.metrics.length === 0) return null;
    return this.metrics.map(([name, ms]) => `${name};dur=${round3(ms)}`).join(', ');
  }
}

/** What a link needs of the request it works for: when its client hangs up, and where to say how long it took. */
export interface RequestScope {
  clientGone: AbortSignal;
  timing: RequestTiming;
}
