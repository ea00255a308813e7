/**
 * An experiment script's frame: its name (from its file), its flags, the servers it starts, the measurements it
 * makes and its results file. Copy a script under a new name and it runs as its own experiment with no edit:
 * the name comes from the file, and every burst gets the common flags (--repeat, --client, --quick, --quiet).
 *
 * Only a finished run is a result:
 *  - Ctrl-C (SIGINT/SIGTERM) or a server that died mid-run asks for a stop (./core/stopping.ts): the burst in flight
 *    ends at once, every server is stopped, the bursts that finished are written with the cut one marked
 *    `"interrupted": true` (file and burst), one line says so, and the entry (./main.ts) exits 130 / 143 (1 for a
 *    server that died). A complete results file is never replaced by an interrupted one: that goes to
 *    `<experiment>.interrupted.json` beside it.
 *  - A burst with errors the experiment does not expect fails it: the results are written, marked with the
 *    failure, and `finish` throws a ScriptFailure (exit 1; run-all then marks it failed).
 * Nothing here exits: it returns, or throws one of ./core/outcomes.ts's outcomes.
 *
 * About 330 lines, one job seen from a script: everything a script does goes through this frame, and what makes a
 * run a result (interruptions, failures, the file) is easier to trust read in one place than in five.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { basename } from 'node:path';
import { readFileSync } from 'node:fs';
import type { CommonFlags, ScriptFlags, ScriptSpec } from './flags.ts';
import {
  startServer,
  useRunningServer,
  type KnownSettings,
  type LaunchOptions,
  type RunningServer,
  type ServerOptions,
  type TargetServer,
} from './processes/start-server.ts';
import { DEFAULT_SETTINGS } from '../../server/settings.ts';
import { stopAllServers } from './processes/cleanup.ts';
import { findRuntime } from './processes/runtimes.ts';
import { isNoAnswer, isRefusal, type ErrorKind } from './client/burst-types.ts';
import { startScript } from './main.ts';
import { Interrupted, ScriptFailure, ScriptSkipped, UserError, type StopReason } from './core/outcomes.ts';
import { onStopRequested, requestStop } from './core/stopping.ts';
import type { ServerProcess } from './processes/server-process.ts';
import {
  measureBurstWithProbes,
  QUICK_WARM_UP_REQUESTS,
  type BurstExtra,
  type BurstPlan,
  type BurstPlanCore,
  type Probe,
} from './measure/measure.ts';
import { describeEnvironment, writeResults, whatItShowsIn, DEFAULT_RESULTS_DIR, resultsDir } from './results/file.ts';
import type {
  ErrorCounts,
  Measurement,
  NoFields,
  ParamValue,
  ResultsFile,
  SharedFileFields,
  SharedMeasurementFields,
} from './results/types.ts';
import { writeCharts } from './view/charts.ts';
import { printMeasurements } from './view/table.ts';
import { createProgress, type Progress } from './view/progress.ts';

/** What a script declares: what it shows, and its own flags (the common ones come with every experiment). */
export type ExperimentSpec<K extends string, L extends string, T extends string, R extends string, S extends string> = Omit<
  ScriptSpec<K, L, T, R, S>,
  'defaultOut'
>;

/** A burst as a script plans it; the frame adds the common flags, the progress line and the interruption. */
export type PlannedBurst<X extends object = NoFields> = Omit<BurstPlanCore, 'progress' | 'signal'> & BurstExtra<X>;

/** What `finish` adds to the results file: the shared fields, R (the experiment's own), and params beyond the flags. */
export type FinishFields<R extends object = NoFields> = SharedFileFields & R & { params?: Record<string, ParamValue> };

export function defineExperiment<
  K extends string,
  L extends string = never,
  T extends string = never,
  R extends string = never,
  S extends string = never,
>(spec: ExperimentSpec<K, L, T, R, S>): Experiment<ScriptFlags<K, L, T, R, S>> {
  return new Experiment(spec, startScript({ ...spec, defaultOut: DEFAULT_RESULTS_DIR }));
}

export class Experiment<
  F extends CommonFlags & { url?: string } & Record<string, ParamValue>,
  X extends object = NoFields,
  R extends object = NoFields,
> {
  /** The script's file name without .ts: its results are `<name>.json`. */
  readonly name = basename(process.argv[1] ?? 'experiment').replace(/\.[cm]?[jt]s$/, '');
  readonly measurements: Measurement<X>[] = [];
  private readonly failures: string[] = [];
  private readonly progress: Progress;
  private readonly abort = new AbortController();
  private interruption: StopReason | null = null;
  /** With --url: the settings of the server fired at, and where they came from (its /stats, or assumed). */
  private serverSettings: (KnownSettings['settings'] & { from: KnownSettings['settingsFrom'] }) | null = null;
  /** Settles when the burst in flight has recorded itself (cut or not). */
  private burstRecorded: Promise<void> = Promise.resolve();
  /** Set once the script is ending: servers stopping now are stopped by us, not dying. */
  private ended = false;

  constructor(
    private readonly spec: ExperimentSpec<string, string, string, string, string>,
    readonly flags: F,
  ) {
    if (flags.url && flags.runtime !== 'node')
      throw new UserError(`--runtime ${flags.runtime} starts a server; with --url the script fires at one already running.`, 2);
    this.progress = createProgress(this.name, { quiet: flags.quiet });
    // Every request in flight listens for the abort (probes included): many at once is expected, not a leak.
    setMaxListeners(0, this.abort.signal);
    onStopRequested((reason) => this.keepWhatFinished(reason));
  }

  /**
   * Declares what this experiment adds to its results beyond the contract's fields and the shared ones: R to the file
   * (given to `finish`), X to each measurement (given as a burst's `extra`; most experiments add none). Types only, nothing happens at run
   * time; from then on a field that is not declared, or misspelt, does not compile. Export R and X from the script,
   * and a test reads its results file with them.
   */
  withResults<R2 extends object = NoFields, X2 extends object = NoFields>(): Experiment<F, X2, R2> {
    return this as unknown as Experiment<F, X2, R2>;
  }

  /** Prints a line unless --quiet. */
  say(text: string): void {
    if (!this.flags.quiet) console.log(text);
  }

  /**
   * server.ts in a child process, pool warm, ready line seen; or, if the script has --url and it was given,
   * the server running there. Either way a server that dies mid-run ends the run as interrupted.
   */
  async server(options: ServerOptions = {}, launch: LaunchOptions = {}): Promise<TargetServer & KnownSettings> {
    if (!this.flags.url) return this.watch(await this.startServer(options, launch));
    const flagged = { ...pick(DEFAULT_SETTINGS, 'poolSize', 'delayMs', 'queueLimit', 'workers'), ...options };
    const server = (await useRunningServer(this.flags.url, flagged)) as TargetServer & KnownSettings;
    const { poolSize, delayMs, queueLimit, workers } = server.settings;
    const running = `pool ${poolSize}, delay ${delayMs} ms, queue ${queueLimit}${workers > 1 ? `, ${workers} workers` : ''}`;
    if (server.settingsFrom === 'assumed')
      this.say(`${server.url} does not say its settings (no /stats): assuming ${running}, from the flags.`);
    else if (poolSize !== flagged.poolSize || delayMs !== flagged.delayMs)
      this.say(`${server.url} runs with ${running} (its /stats): the model uses those, not the flags'.`);
    this.serverSettings = { from: server.settingsFrom, ...server.settings };
    return server;
  }

  /**
   * server.ts in a child process, always (also with --url), on the runtime --runtime names unless `launch` names
   * one: the way a script starts every server.ts, so that --runtime reaches them all. Not watched (see `server`):
   * for a script that stops it in ways of its own. Where the runtime of --runtime cannot run here, the script is
   * skipped with the reason, as one without Python is.
   */
  async startServer(options: ServerOptions = {}, launch: LaunchOptions = {}): Promise<RunningServer> {
    const runtime = launch.runtime ?? this.flags.runtime;
    const found = findRuntime(runtime);
    if ('missing' in found && launch.runtime === undefined) await this.skip(`--runtime ${runtime}: ${found.missing}`);
    return startServer(options, { ...launch, runtime });
  }

  /** A server this script started some other way (e.g. uvicorn): its death mid-run interrupts the run too. */
  watch<S extends ServerProcess>(server: S): S {
    void server.exit.then((status) => {
      if (!server.stopRequested && !this.ended)
        void requestStop({
          by: `the server (PID ${server.pid}) exited mid-run with ${status.code ?? status.signal}`,
          exitCode: 1,
        });
    });
    return server;
  }

  /** Starts a server, runs `run` with it, and stops it afterwards, whatever happens. */
  async withServer<S extends TargetServer, R>(
    start: ServerOptions | (() => Promise<S>),
    run: (server: S) => Promise<R>,
  ): Promise<R> {
    const server = typeof start === 'function' ? await start() : ((await this.server(start)) as S);
    try {
      return await run(server);
    } finally {
      await server.stop();
    }
  }

  /** One measurement (--repeat K bursts, fired by --client), recorded for the results file. */
  async measure(server: TargetServer, plan: PlannedBurst<X>): Promise<Measurement<X>> {
    return (await this.measureAll(server, [plan], [], 0))[0]!;
  }

  /**
   * Bursts one after another, each with the same probes: the measurements in order, probes after their burst. Only
   * where the experiment adds no fields of its own to its measurements: a probe has none of them.
   */
  async measureWithProbes(
    this: Experiment<F, NoFields, R>,
    server: TargetServer,
    plans: PlannedBurst[],
    probes: Probe[],
    probeEveryMs: number,
  ): Promise<Measurement[]> {
    return this.measureAll(server, plans, probes, probeEveryMs);
  }

  private async measureAll(
    server: TargetServer,
    plans: PlannedBurst<X>[],
    probes: Probe[],
    probeEveryMs: number,
  ): Promise<Measurement<X>[]> {
    const measured: Measurement<X>[] = [];
    for (const plan of plans) {
      if (this.interruption) throw new Interrupted(this.interruption);
      const full: BurstPlan<X> = {
        repeat: this.flags.repeat,
        client: this.flags.client,
        // A --quick run checks shapes, not the last milliseconds: it warms the server up less.
        warmUpRequests: this.flags.quick ? QUICK_WARM_UP_REQUESTS : undefined,
        ...plan,
        progress: this.progress,
        signal: this.abort.signal,
      };
      let recorded!: () => void;
      this.burstRecorded = new Promise((resolve) => (recorded = resolve));
      try {
        let run: Awaited<ReturnType<typeof measureBurstWithProbes<X>>>;
        try {
          run = await measureBurstWithProbes<X>(server, full, probes, probeEveryMs);
        } catch (error) {
          // A server that stopped answering between bursts (its /stats failed): a cut run, not a stack trace.
          if (!this.interruption && !(await server.answers()))
            void requestStop({ by: (error as Error).message.replace(/\.$/, ''), exitCode: 1 });
          if (this.interruption) throw new Interrupted(this.interruption);
          throw error;
        }
        if (!this.interruption && hasConnectionErrors(run.burst) && !(await server.answers())) {
          void requestStop({ by: `the server at ${server.url} stopped answering`, exitCode: 1 });
        }
        // Probes exist only where X adds nothing (measureWithProbes), so they are measurements of this experiment too.
        const burst = [run.burst, ...(run.probes as Measurement<X>[])];
        if (this.interruption) {
          this.measurements.push(...burst.map((m) => ({ ...m, interrupted: true })));
          throw new Interrupted(this.interruption);
        }
        this.measurements.push(...burst);
        measured.push(...burst);
      } finally {
        recorded();
      }
    }
    return measured;
  }

  /** Measurements made by hand (a burst fired directly), kept in the results like the others. */
  record(...measurements: Measurement<X>[]): void {
    this.measurements.push(...measurements);
  }

  /** Fields a measurement gets once it is measured (what only the whole burst tells, e.g. how it was split). */
  amend(m: Measurement<X>, fields: SharedMeasurementFields & Partial<X>): void {
    Object.assign(m, fields);
  }

  /** A claim the script checks did not hold: the results are still written, then the script exits 1. */
  fail(reason: string): void {
    this.failures.push(reason);
  }

  /** The measurements so far as the standard table. */
  printTable(title: string, measurements = this.measurements): void {
    printMeasurements(title, measurements, this.flags.quiet);
  }

  /**
   * Writes the results (and their pictures), stops any server left, and ends the script: exit 1 with one
   * sentence if a burst had errors the experiment did not expect, or a claim it checks did not hold.
   * `more` adds fields to the results file (params beyond the flags, a sweep, calibration, …).
   */
  async finish(...[more]: NoFields extends R ? [FinishFields<R>?] : [FinishFields<R>]): Promise<void> {
    if (this.interruption) throw new Interrupted(this.interruption);
    for (const m of this.measurements) {
      const unexpected = unexpectedErrors(m);
      if (unexpected) this.failures.push(unexpected);
    }
    const file = await this.write({ ...more, ...(this.failures.length > 0 ? { failures: this.failures } : {}) });
    this.say(`\nwrote ${file}`);
    this.ended = true;
    await stopAllServers();
    if (this.failures.length > 0) throw new ScriptFailure(`${this.name}: ${this.failures.join('; ')}.`);
  }

  /** Nothing could be measured here (e.g. no Python with FastAPI): says why, writes a skipped file, ends the script (0). */
  async skip(reason: string, more: { params?: Record<string, ParamValue> } = {}): Promise<never> {
    this.say(`${this.name} skipped: ${reason}`);
    this.say(`wrote ${await this.write({ ...more, skipped: reason })}`);
    this.ended = true;
    await stopAllServers();
    throw new ScriptSkipped(reason);
  }

  /** What the script was run with: every flag but where the results go and how much it prints. */
  params(): Record<string, ParamValue> {
    const { out: _out, quiet: _quiet, ...params } = this.flags;
    if (!this.serverSettings) return params;
    // Fired at a server at --url: what it ran with, read back from its /stats or assumed from the flags.
    const { from, ...settings } = this.serverSettings;
    return { ...params, server: { settingsFrom: from, ...settings } };
  }

  /** The results file: the contract's fields, and `more` (typed where it comes from: finish, skip, an interruption). */
  private async write(
    more: { params?: Record<string, ParamValue> } & Partial<
      Pick<ResultsFile, 'interrupted' | 'interruptedBy' | 'skipped' | 'failures'>
    >,
  ): Promise<string> {
    const body = {
      ...more,
      experiment: this.name,
      whatItShows: this.whatItShows(),
      environment: describeEnvironment(),
      createdAt: new Date().toISOString(),
      params: { ...this.params(), ...more.params },
      measurements: this.measurements,
    } as ResultsFile<R, X>;
    // An interrupted run draws no pictures: they would replace those of the complete run beside it.
    if (!body.interrupted) body.charts = await writeCharts(resultsDir(this.flags.out), body);
    return writeResults(this.flags.out, body);
  }

  /** The script header's "What it shows" paragraph (one source for --help, the README and the report). */
  private whatItShows(): string {
    try {
      return whatItShowsIn(readFileSync(process.argv[1]!, 'utf8')) || this.spec.about;
    } catch {
      return this.spec.about;
    }
  }

  /**
   * A stop was asked for (a signal, a server that died): the burst in flight ends at once and records itself as cut;
   * then every server is stopped and what finished is written, the cut burst marked, with one line saying so.
   */
  private async keepWhatFinished(reason: StopReason): Promise<void> {
    this.interruption = reason;
    this.abort.abort();
    await Promise.race([this.burstRecorded, sleep(5000, undefined, { ref: false })]);
    this.ended = true;
    await stopAllServers(3000);
    const finished = this.measurements.filter((m) => !m.interrupted).length;
    const cut = this.measurements.filter((m) => m.interrupted).map((m) => m.label);
    if (this.measurements.length === 0) {
      console.error(`${this.name}: interrupted (${reason.by}) before any burst finished: nothing written.`);
      return;
    }
    const file = await this.write({ interrupted: true, interruptedBy: reason.by });
    const cutText = cut.length > 0 ? ` and the cut one (${cut.join(', ')}), marked interrupted,` : '';
    console.error(`${this.name}: interrupted (${reason.by}): kept ${finished} finished measurement(s)${cutText} in ${file}.`);
  }
}

/**
 * What a measurement's errors say beyond what its experiment expects, or null: none at all, errors the experiment
 * declared, or refusals (503) in exactly the number the model predicts in every burst (any number where the model
 * says it cannot predict them).
 */
export function unexpectedErrors(m: Measurement): string | null {
  if (m.errors === 0 || m.errorsExpected) return null;
  const kinds = (counts: ErrorCounts) =>
    Object.entries(counts)
      .map(([kind, n]) => `${n} × ${kind}`)
      .join(', ');
  if (m.expectedRefused === undefined)
    return `${m.label}: ${m.errors} of ${m.ok + m.errors} requests failed (${kinds(m.errorCounts)})`;
  for (const run of m.repeats?.runs ?? [m]) {
    const refused = (Object.entries(run.errorCounts) as [ErrorKind, number][])
      .filter(([kind]) => isRefusal(kind))
      .reduce((sum, [, n]) => sum + n, 0);
    if (refused !== run.errors)
      return `${m.label}: ${run.errors - refused} requests failed other than by a refusal (${kinds(run.errorCounts)})`;
    if (m.expectedRefused !== null && refused !== m.expectedRefused)
      return `${m.label}: ${refused} refused, the model says ${m.expectedRefused}`;
  }
  return null;
}

/** Requests that got no HTTP answer at all: the first sign of a server that is gone. */
function hasConnectionErrors(m: Measurement): boolean {
  return (Object.keys(m.errorCounts) as ErrorKind[]).some((kind) => isNoAnswer(kind) && kind !== 'timeout');
}

function pick<T extends object, K extends keyof T>(from: T, ...keys: K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((key) => [key, from[key]])) as Pick<T, K>;
}
