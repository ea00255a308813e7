/**
 * The names other code looks results up by, defined once and shared by the script that writes them and whoever reads
 * them (report.ts, the README's tables, the tests): each experiment's file stem, and the labels of the measurements
 * read elsewhere. No side effects: a reader imports this, never the script (a script runs when imported).
 */

/** Files in scripts/ that are not experiments: run-all skips them (files starting with `_` are templates). */
export const NOT_EXPERIMENTS: readonly string[] = ['run-all.ts', 'report.ts', 'live.ts'];

/** Whether a file in scripts/ is an experiment run-all runs. */
export function isExperimentScript(file: string): boolean {
  return file.endsWith('.ts') && !file.startsWith('_') && !NOT_EXPERIMENTS.includes(file);
}

/** async-vs-sync: the blog's two bursts. */
export const ASYNC_VS_SYNC = { experiment: 'async-vs-sync', async: 'async', sync: 'sync' } as const;

/** compare-fastapi: the blog's app and ours, each server's two bursts, and FastAPI with its limiter raised. */
export const COMPARE_FASTAPI = {
  experiment: 'compare-fastapi',
  fastapiAsync: 'fastapi-async',
  fastapiSync: 'fastapi-sync',
  fastapiSyncRaised: (limit: number) => `fastapi-sync-limit-${limit}`,
  honoAsync: 'hono-async',
  honoSync: 'hono-sync',
} as const;

/** fidelity: a burst of `kind` (async, trivial, sync) fired by one client at N. */
export const FIDELITY = {
  experiment: 'fidelity',
  burst: (kind: 'async' | 'trivial' | 'sync', client: 'suite' | 'reference' | 'curl', n: number) => `${kind}-${client}-${n}`,
} as const;
