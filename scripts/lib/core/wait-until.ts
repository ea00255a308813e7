/**
 * waitUntil: checks a condition every few ms until it holds, and fails with what was awaited after a deadline.
 * For states no event announces (a counter in /stats, another process's exit); never a fixed sleep.
 * Shared by the tests and the scripts that wait on the server's own counters (scripts/reliability.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';

export async function waitUntil<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
  everyMs = 20,
): Promise<Exclude<T, false | 0 | '' | null | undefined>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Exclude<T, false | 0 | '' | null | undefined>;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
