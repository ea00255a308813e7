/**
 * Work that shares the cores, told from a pool by the completions alone (never this machine's core count: the target
 * may be elsewhere, or under a CPU quota). Pure: read by the search (to stop doubling) and by the verdict.
 */
import type { Step } from './step.ts';

/**
 * Work that shares the cores: a burst's earliest answer came this far beyond a request's own time (D). In a pool the
 * earliest answer is D whatever N is (a request that did not wait takes D): at most 1.11 · D in every burst of two or
 * more of every pool find-pool has met, the suite's own under half this machine's CPU and the outside servers
 * included (a request alone is another matter: sharesCores). Where requests share the cores it moves out, though not
 * always far: a burst's first request can start before the others are taken in, and run alone for a while. Bursts
 * of 4 and 8 hashes on libuv's 4 threads on 2 cores ended first at 1.0 to 4.3 · D, 19 of 323 below 1.5 · D and 8
 * below 1.25 · D (135 runs, 60 of them under half this machine's CPU or beside a busy process). The mark was 1.5,
 * and twice in CI every burst of a run stayed below it: such work passed for an uneven pool.
 */
export const MOVED_OUT = 1.25;

/**
 * Whether the work shares the cores: some burst of two or more had its earliest answer well after a request's own
 * time. A request alone shares the cores with nothing: when one is late (the first of all is the coldest: 1.23 · D
 * once under half this machine's CPU, beside at most 1.11 · D for every later burst of a pool), the server was
 * warming up or stalled, not sharing. Nor the requests that only waited for the server to settle after a hang-up:
 * they wait behind what was left running.
 */
export function sharesCores(search: { steps: readonly Step[]; delayMs: number }): boolean {
  return search.steps.some(
    (s) => s.requests >= 2 && s.purpose !== 'settle' && s.firstMs !== null && s.firstMs > search.delayMs * MOVED_OUT,
  );
}
