/**
 * What a server says of its own queue, where it says anything: the standard Server-Timing header's metrics whose names
 * end in `-wait` (time queued for a resource: `pool-wait`, `db-wait`), kept by the burst client on each request. In a
 * pool of P the k-th wave's requests waited about (k − 1) · D, so the waits, read in steps of D, count the waves again
 * from the server's side. It corroborates a finding read from the answers' timing; it never decides one: a header is
 * only what the server claims, and most servers send none.
 */
import { isOk } from '../client/burst-types.ts';
import type { Step } from './step.ts';

export interface ServerTimingCorroboration {
  /** The metric read: the `-wait` metric that waited longest in the burst (the queue that set the waves). */
  metric: string;
  /** The burst read (the one that revealed P, else the largest answered in full), and its answers by wait. */
  requests: number;
  /** How many waited about 0, D, 2 · D, …: the waves as the server counted them. */
  waves: number[];
  /** Whether they are the waves read from the answers' timing (the pool's waves). */
  agrees: boolean;
}

/** The server's own account of one burst's queue, or null where its answers carry no `-wait` metric. */
export function corroborate(step: Step, delayMs: number): ServerTimingCorroboration | null {
  const answered = step.burst.requests.filter(isOk);
  const longest = new Map<string, number>();
  for (const r of answered)
    for (const [name, ms] of Object.entries(r.serverTiming ?? {}))
      if (name.endsWith('-wait')) longest.set(name, Math.max(longest.get(name) ?? 0, ms));
  if (longest.size === 0) return null;
  const metric = [...longest.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  const waves: number[] = [];
  for (const r of answered) {
    // A wait within half a D of k · D is the (k + 1)-th wave: the same half-D room ../model/waves.ts reads ends with.
    const k = Math.max(0, Math.round((r.serverTiming?.[metric] ?? 0) / delayMs));
    while (waves.length <= k) waves.push(0);
    waves[k]!++;
  }
  const counted = waves.filter((n) => n > 0);
  const agrees = counted.length === step.poolWaves.length && counted.every((n, i) => n === step.poolWaves[i]);
  return { metric, requests: step.requests, waves: counted, agrees };
}

/** The sentence's clause: what the server said, and that the finding stands on the answers' timing. */
export function corroborationText(c: ServerTimingCorroboration): string {
  const steps = c.waves.map((n, k) => (k === 0 ? `${n} waited none` : `${n} about ${k} · D`)).join(', ');
  return c.agrees
    ? ` The server's own Server-Timing agrees (${c.metric} in the burst of ${c.requests}: ${steps}); it corroborates the finding, it did not decide it.`
    : ` The server's own Server-Timing counts otherwise (${c.metric} in the burst of ${c.requests}: ${steps}); the finding stands on the answers' timing.`;
}
