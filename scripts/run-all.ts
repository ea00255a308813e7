/**
 * run-all — every experiment in scripts/, one after the other, then the report.
 *
 * An experiment is any scripts/*.ts file except the tools below (this file and the report) and files whose
 * name starts with `_` (the template): a new script joins the run by being in the folder. Each runs in its own process with the same --out and --quick, so
 * one that fails cannot take the others down; run-all still writes what the others produced and then exits
 * non-zero.
 *
 * Run:    npx tsx scripts/run-all.ts [--quick] [--out results]
 * Expect: results/<experiment>.json for each, results/summary.json, results/REPORT.md, and (into the default
 *         results/) the figures of README.md, docs/ and the scripts' headers written again from them; a line for
 *         each experiment, with any target that did not pass.
 * Takes:  27.3 min in the committed run (the sum of results/summary.json's times); --quick checks the shape of
 *         every experiment in a fraction of that.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { startScript } from './lib/main.ts';
import { isExperimentScript } from './lib/results/labels.ts';
import { onStopRequested } from './lib/core/stopping.ts';
import { Interrupted, ScriptFailure, type StopReason } from './lib/core/outcomes.ts';
import { DEFAULT_RESULTS_DIR, readResults, resultsDir, writeAtomically, formatJson } from './lib/results/file.ts';
import { writePages, writeReport } from './report.ts';
import type { ResultsFile } from './lib/results/types.ts';
import { STOP_SIGNALS, type StopSignal } from '../server/signals.ts';
import { verdictWord } from './lib/model/targets.ts';

const SCRIPTS_DIR = fileURLToPath(new URL('./', import.meta.url));

const flags = startScript({
  about: 'Runs every experiment script in scripts/ and writes summary.json and REPORT.md beside their results.',
  defaultOut: DEFAULT_RESULTS_DIR,
  numbers: {},
  notApplicable: {
    runtime: 'run-all runs the suite on Node, and runtimes.ts compares the runtimes; give --runtime to one script',
  },
});
const outDir = resultsDir(flags.out);
const say = (text: string) => flags.quiet || console.log(text);

export interface ExperimentRun {
  experiment: string;
  script: string;
  /**
   * ok: exited 0 and wrote a fresh, complete results file; skipped: it said so in its results (e.g. no Python);
   * failed: anything else, e.g. a burst with errors it did not expect, or a run cut short.
   */
  status: 'ok' | 'failed' | 'skipped';
  file: string | null;
  exitCode: number | null;
  durationMs: number;
  reason?: string;
  /**
   * Its targets that did not pass (scripts/lib/model/targets.ts): "inconclusive: …" where the run could not tell,
   * "MISS: …" where it showed the target unmet. Reported, not a failure of the run.
   */
  targetsNotPassed?: string[];
}

// 1. Find the experiments: every script in the folder but the tools.
const scripts = (await readdir(SCRIPTS_DIR)).filter(isExperimentScript).sort();
say(`run-all: ${scripts.length} experiments${flags.quick ? ' (--quick)' : ''} → ${outDir}`);

// 2. Run each in its own process; Ctrl-C stops the one running (it stops its server, keeps what finished) and
//    ends the run once the summary and the report say so.
let current: ReturnType<typeof spawn> | null = null;
let interrupted: StopReason | null = null;
let summaryWritten!: () => void;
const written = new Promise<void>((resolve) => (summaryWritten = resolve));
onStopRequested(async (reason) => {
  interrupted = reason;
  const signal = STOP_SIGNALS.find((s) => s === reason.by) ?? 'SIGTERM';
  current?.kill(signal satisfies StopSignal);
  await written;
});

const runs: ExperimentRun[] = [];
const startedAt = new Date();
for (const script of scripts) {
  if (interrupted) break;
  const experiment = script.replace(/\.ts$/, '');
  say(`\n━━ ${experiment} ━━`);
  const args = ['--import', 'tsx', join(SCRIPTS_DIR, script), '--out', outDir];
  if (flags.quick) args.push('--quick');
  if (flags.quiet) args.push('--quiet');
  const began = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  current = child;
  const exitCode = await new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null)));
    child.once('error', () => resolve(null));
  });
  current = null;
  runs.push(await judge(experiment, script, exitCode, performance.now() - began));
}

// 3. The summary and the report, also when something failed.
const summary = {
  createdAt: startedAt.toISOString(),
  quick: flags.quick,
  interrupted: interrupted !== null,
  experiments: runs,
};
await writeAtomically(join(outDir, 'summary.json'), formatJson(summary));
const report = await writeReport(outDir);
const pages = await writePages(outDir);
for (const why of pages.unresolved) say(`report: kept as it was, ${why}`);
say(
  `\n${runs
    .map(
      (r) =>
        `${r.status.padEnd(7)} ${r.experiment} (${(r.durationMs / 1000).toFixed(1)} s)${r.reason ? `: ${r.reason}` : ''}` +
        (r.targetsNotPassed ?? []).map((t) => `\n        target ${t}`).join(''),
    )
    .join('\n')}`,
);
say(`\nwrote ${[join(outDir, 'summary.json'), report, ...pages.changed].join(', ')}`);

summaryWritten();

const failed = runs.filter((r) => r.status === 'failed');
if (interrupted) throw new Interrupted(interrupted);
if (failed.length > 0) {
  throw new ScriptFailure(
    `run-all: ${failed.length} of ${runs.length} experiments failed: ${failed.map((r) => r.experiment).join(', ')}.`,
  );
}

/** ok only if the script exited 0 and left a complete results file written during this run. */
async function judge(experiment: string, script: string, exitCode: number | null, durationMs: number): Promise<ExperimentRun> {
  const file = `${experiment}.json`;
  const run = { experiment, script: `scripts/${script}`, exitCode, durationMs: Math.round(durationMs), file };
  let results: ResultsFile | undefined;
  try {
    results = await readResults(join(outDir, file));
    if (new Date(results.createdAt) < startedAt) results = undefined;
  } catch {
    results = undefined;
  }
  // The script's own words first: what failed, or why it was cut short; then its exit code.
  const why = results?.failures?.join('; ') ?? (results?.interrupted ? `interrupted (${results.interruptedBy})` : undefined);
  if (exitCode !== 0) return { ...run, status: 'failed', reason: why ?? `exited with ${exitCode}` };
  if (!results) return { ...run, status: 'failed', file: null, reason: `wrote no new ${file}` };
  if (why) return { ...run, status: 'failed', reason: why };
  if (results.skipped) return { ...run, status: 'skipped', reason: String(results.skipped) };
  const notPassed = (results.targets ?? [])
    .filter((t) => t.verdict !== 'pass')
    .map((t) => `${verdictWord(t.verdict)}: ${t.figure}: ${t.measured}${t.why ? ` (${t.why})` : ''}`);
  return { ...run, status: 'ok', ...(notPassed.length > 0 ? { targetsNotPassed: notPassed } : {}) };
}
