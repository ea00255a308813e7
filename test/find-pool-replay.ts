/**
 * find-pool's search without a network, for the tests that run it in their own process: the bursts of a committed
 * results file replayed in the order they were fired, each target's search and verdict run again over them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { BurstSource } from '../scripts/lib/find-pool/search.ts';
import type { ResultsFile, Measurement } from '../scripts/lib/results/types.ts';
import type { FindPoolResults } from '../scripts/find-pool.ts';

/**
 * The bursts of one target as they were fired: the search must ask for the same N, in the same order, that the
 * recorded one did (asserted), and gets the recorded answers; the clock moves on by each burst's total.
 */
export function replayOf(measurements: readonly Measurement[]): BurstSource & { fired: () => number } {
  let clock = 0;
  let next = 0;
  return {
    now: () => clock,
    fired: () => next,
    fire: async (requests) => {
      const m = measurements[next];
      assert.ok(m, `the search asked for a burst of ${requests} after the ${next} recorded`);
      assert.equal(requests, m.concurrency, `burst ${next + 1} (${m.label}): asked for ${requests}, fired ${m.concurrency}`);
      next++;
      clock += m.totalMs;
      return { startedAt: 0, totalMs: m.totalMs, connectMs: null, requests: m.requests };
    },
  };
}

/** A committed find-pool results file: each target's finding with the bursts fired for it (labels "<name> N=…"). */
export function recordedTargets(path: string) {
  const file = JSON.parse(readFileSync(path, 'utf8')) as ResultsFile<FindPoolResults>;
  const byName = new Map<string, Measurement[]>();
  for (const m of file.measurements) {
    const name = m.label.replace(/ N=\d+( #\d+)?$/, '');
    byName.set(name, [...(byName.get(name) ?? []), m]);
  }
  const groups = [...byName.entries()];
  assert.equal(groups.length, file.findings.length, `${path}: one finding per target`);
  return groups.map(([name, measurements], i) => ({
    name,
    finding: file.findings[i]!,
    measurements,
    maxRequests: Number(file.params.maxRequests),
    budgetMs: Number(file.params.budgetS) * 1000,
  }));
}
