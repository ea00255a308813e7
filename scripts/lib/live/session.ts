/**
 * The live page's one burst at a time (scripts/live.ts): the server each scenario needs (restarted only when its
 * settings change), PostgreSQL when a database scenario first needs it, w and the cores timed on the server for the
 * CPU scenarios, then the burst, fired from this process with the suite's own client, every request's start and end
 * streamed as it happens beside the server's gauges: its pools exact, from its record of every task (./pool-feed.ts),
 * followed until the server is idle again; its /stats sampled for how late it answers (a blocked event loop). When it
 * ends, the burst as a measurement of the results contract. Stop ends the burst in flight and marks it interrupted,
 * as the scripts do; a server that dies under a burst fails it, and the next Fire starts a new one. The events of the
 * current burst are kept, so a page that connects late (or again, after being closed) sees all of it.
 *
 * About 390 lines: one class, because the burst, the server it runs on, the calibration and the gauges share the
 * one state the page follows (which burst, which server, what was streamed so far).
 */
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fireBurst } from '../client/burst.ts';
import { isOk } from '../client/burst-types.ts';
import { startServer, type RunningServer } from '../processes/start-server.ts';
import { startPostgres, type Postgres } from '../processes/postgres.ts';
import { calibrate, measureCores, measureServedWorkMs } from '../measure/calibrate.ts';
import { QUICK_WARM_UP_REQUESTS, warmUpServer } from '../measure/measure.ts';
import { httpRequest } from '../client/http-get.ts';
import { toMeasurement } from '../results/types.ts';
import { waveSizes } from '../model/waves.ts';
import { round3 } from '../../../server/numbers.ts';
import { settingsToArgs } from '../../../server/settings.ts';
import type { ServerStats } from '../../../server/stats-window.ts';
import { cpuWork, hashSync } from '../../../server/pool-tasks.js';
import {
  SCENARIO_TABLE,
  lessonOf,
  modelOf,
  serverConfigOf,
  wavePoolSizeOf,
  type Calibration,
  type GaugeName,
  type Settings,
} from './scenarios.ts';
import type { LiveEvent, LiveFields, LiveMeasurement, PoolStep, Sample } from './events.ts';
import { PoolFeed, READ_EVERY_MS } from './pool-feed.ts';

/** How often the gauges are sampled while a burst runs, ms. */
export const SAMPLE_EVERY_MS = 100;
/** The gauges read from the server's record of its tasks (the rest are sampled, or the burst's own). */
const POOL_GAUGES = new Set<GaugeName>(['busy', 'queued', 'dbBusy', 'dbWaiting']);
/**
 * How long after a burst (beyond D) its pools are followed at most before the picture ends anyway: a task ends
 * within D of its answer, or at once when its client hung up (the pool's and the database's are cancelled), so
 * this only bounds a server that misbehaves.
 */
const DRAIN_LIMIT_MS = 5000;
/** How long a server whose connections closed under a burst is given to be seen exiting. */
const EXIT_NOTICE_MS = 2000;

export type LiveState = 'idle' | 'starting' | 'firing' | 'done' | 'failed';

/** Fire was pressed while a burst runs. */
export class BusyError extends Error {}

export class LiveSession {
  private server: RunningServer | null = null;
  private serverKey = '';
  private calibration: Calibration | null = null;
  private postgres: Postgres | null = null;
  private state: LiveState = 'idle';
  private log: LiveEvent[] = [];
  private readonly listeners = new Set<(event: LiveEvent) => void>();
  private abort: AbortController | null = null;
  private nextId = 1;
  /** The last burst that ended, to save. */
  last: LiveMeasurement | null = null;
  private readonly cores = availableParallelism();

  get currentState(): LiveState {
    return this.state;
  }

  /** Bursts fired since the script started (Fire pressed and accepted). */
  get fired(): number {
    return this.nextId - 1;
  }

  get busy(): boolean {
    return this.state === 'starting' || this.state === 'firing';
  }

  /** Every event from now on; first, the state and the current burst's events so far. */
  subscribe(listener: (event: LiveEvent) => void): () => void {
    listener({ type: 'state', state: this.state, burst: this.nextId > 1 ? this.nextId - 1 : null });
    for (const event of this.log) listener(event);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: LiveEvent): void {
    if (event.type === 'state') this.state = event.state;
    this.log.push(event);
    for (const listener of this.listeners) listener(event);
  }

  /** The model for these settings, as far as it is known now (nominal where the server was not timed yet). */
  model(settings: Settings) {
    const timed = this.serverKey === keyOf(settings) ? this.calibration : null;
    return modelOf(settings, timed, this.cores);
  }

  /** Starts a burst; it runs on after this returns (its events tell). One at a time. */
  fire(settings: Settings): number {
    if (this.busy) throw new BusyError('a burst is already running: wait for it to end, or press Stop');
    const id = this.nextId++;
    this.log = [];
    this.abort = new AbortController();
    this.emit({ type: 'state', state: 'starting' });
    void this.run(id, settings, this.abort.signal).catch((error: unknown) => {
      const detail = error instanceof Error ? error.message : String(error);
      this.emit({ type: 'failed', id, detail });
      this.emit({ type: 'state', state: 'failed', detail });
    });
    return id;
  }

  /** Ends the burst in flight: what was answered is kept, the rest recorded as interrupted. */
  stop(): boolean {
    if (!this.busy || !this.abort) return false;
    this.abort.abort();
    return true;
  }

  private async run(id: number, settings: Settings, signal: AbortSignal): Promise<void> {
    const scenario = SCENARIO_TABLE[settings.scenario];
    const server = await this.serverFor(settings, signal);
    if (signal.aborted) throw new Error('stopped before the burst began');
    const model = modelOf(settings, this.calibration, this.cores);
    const label = labelOf(settings);
    this.emit({ type: 'burst', id, settings, endpoint: scenario.endpoint, label, model, lesson: lessonOf(settings, model) });

    await server.resetStats();
    // The pools' gauges from the server's record of every task, where the scenario draws one.
    const pools = scenario.gauges.some((gauge) => POOL_GAUGES.has(gauge)) ? await PoolFeed.open(server.url) : null;
    this.emit({ type: 'state', state: 'firing' });
    const samples: Sample[] = [];
    const poolSteps: PoolStep[] = [];
    let sampling: Promise<void> = Promise.resolve();
    let pooling: Promise<void> = Promise.resolve();
    let burstOver = false;
    const burst = await fireBurst({
      baseUrl: server.url,
      path: (i) => `${scenario.endpoint}/${i}`,
      requests: settings.requests,
      timeoutMs: Math.max(120_000, 4 * (model.boundariesMs.at(-1) ?? settings.delayMs)),
      signal,
      onStarted: (records, startedAt) => {
        const at = Date.now() - (performance.now() - startedAt);
        this.emit({ type: 'started', id, startsMs: records.map((r) => round3(r.startMs)), at });
        sampling = this.sample(
          server,
          settings,
          startedAt,
          () => burstOver,
          (sample) => {
            samples.push(sample);
            this.emit({ type: 'sample', id, sample });
          },
        );
        if (pools) {
          pools.startBurst(startedAt);
          pooling = this.followPools(
            pools,
            () => burstOver,
            settings.delayMs,
            ({ from, steps, untilMs }) => {
              poolSteps.splice(from, Number.POSITIVE_INFINITY, ...steps);
              this.emit({ type: 'pool', id, from, steps, untilMs });
            },
          );
        }
      },
      onRequestDone: (_done, _total, record) => {
        if (record)
          this.emit({ type: 'end', id, request: { ...record, startMs: round3(record.startMs), endMs: round3(record.endMs) } });
      },
    });
    burstOver = true;
    await Promise.all([sampling, pooling]);
    await this.checkAlive(server);
    const stats = await server.stats();
    const live: LiveFields = {
      scenario: settings.scenario,
      settings,
      boundariesMs: model.boundariesMs,
      formula: model.formula,
      samples,
      ...(pools ? { poolSteps } : {}),
      ...(model.nominal ? { nominalModel: true } : {}),
    };
    const result: LiveMeasurement = {
      ...toMeasurement<LiveFields>(
        {
          label,
          endpoint: scenario.endpoint,
          poolSize: wavePoolSizeOf(settings),
          delayMs: model.nominal ? settings.delayMs : (this.calibration?.workMs ?? settings.delayMs),
          predictedMs: model.predictedMs,
          server: stats,
        },
        burst,
        {
          ...live,
          // The answers in waves of the model's wave (D, or the CPU work's wave): what the table says beside it.
          waves: waveSizes(burst.requests.filter(isOk), model.boundariesMs[0] ?? settings.delayMs),
          ...(scenario.uses.includes('workers') ? { workers: settings.workers } : {}),
          ...(scenario.wavePool === 'threads' && stats.libuvThreadpoolSize !== null
            ? { libuvThreadpoolSize: stats.libuvThreadpoolSize }
            : {}),
          ...(this.calibration && serverConfigOf(settings).work ? { coreMs: this.calibration.coreMs } : {}),
        },
      ),
      ...(signal.aborted ? { interrupted: true } : {}),
    };
    this.last = result;
    this.emit({ type: 'done', id, result });
    this.emit({ type: 'state', state: 'done' });
  }

  /** The server these settings need: the running one if it was started with them, else a new one. */
  private async serverFor(settings: Settings, signal: AbortSignal): Promise<RunningServer> {
    const config = serverConfigOf(settings);
    const key = keyOf(settings);
    if (this.server && !this.server.exited && this.serverKey === key) return this.server;
    await this.stopServer();
    const options = { ...config.settings };
    if (config.work) {
      this.status(`calibrating about ${settings.delayMs} ms of ${config.work === 'cpu' ? 'CPU work' : 'hashing'} per request…`);
      const { iterations } =
        config.work === 'cpu' ? calibrate(settings.delayMs, cpuWork, 100_000) : calibrate(settings.delayMs, hashSync);
      if (config.work === 'cpu') options.cpuIterations = iterations;
      else options.hashIterations = iterations;
    }
    if (config.database) {
      if (!this.postgres) {
        this.status('starting PostgreSQL (a throwaway cluster, first time only)…');
        const started = await startPostgres();
        if ('unavailable' in started) throw new Error(`no PostgreSQL: ${started.unavailable}`);
        this.postgres = started;
      }
      await this.postgres.otherConnectionsGone();
    }
    // The command line as a user would type it (the database's address left out: it holds a password).
    const on = config.runtime === 'node' ? '' : ` on ${config.runtime}`;
    this.status(`starting server.ts ${settingsToArgs(options).join(' ')}${config.database ? ' --database-url …' : ''}${on}…`);
    const url = this.postgres && config.database ? this.postgres.url : undefined;
    const server = await startServer(
      { ...options, ...(url ? { databaseUrl: url } : {}) },
      { env: config.env, runtime: config.runtime },
    );
    this.server = server;
    this.serverKey = key;
    this.calibration = null;
    const endpoint = SCENARIO_TABLE[settings.scenario].endpoint;
    this.status('warming up the server…');
    await warmUpServer(server.url, endpoint, 1, undefined, QUICK_WARM_UP_REQUESTS);
    if (config.work && !signal.aborted) {
      this.status('timing one request on the server (w), and its cores…');
      const work = await measureServedWorkMs(server.url, (i) => `${endpoint}/${i}`, 5);
      const threads = wavePoolSizeOf(settings) ?? 1;
      const coreMs =
        threads >= this.cores
          ? (await measureCores(server.url, (i) => `${endpoint}/${i}`, this.cores, work.ms, 3)).coreMs
          : Array.from({ length: this.cores }, () => work.ms);
      this.calibration = { workMs: work.ms, coreMs };
    }
    return server;
  }

  private status(text: string): void {
    this.emit({ type: 'status', text });
  }

  /**
   * The gauges, every SAMPLE_EVERY_MS while the burst runs: /stats (a blocked event loop answers late; the gap
   * shows it), and for hash a small file read beside it, also on libuv's threads.
   */
  private async sample(
    server: RunningServer,
    settings: Settings,
    startedAt: number,
    over: () => boolean,
    take: (sample: Sample) => void,
  ): Promise<void> {
    let read = 0;
    while (!over()) {
      const asked = performance.now();
      const [stats, fileReadMs] = await Promise.all([
        httpRequest(`${server.url}/stats`, { timeoutMs: 60_000 }),
        SCENARIO_TABLE[settings.scenario].gauges.includes('fileReadMs')
          ? timed(`${server.url}/file-test/${++read}`)
          : Promise.resolve(undefined),
      ]);
      const answered = performance.now();
      if ('error' in stats || stats.status !== 200) break; // the server is gone: the burst will say so
      const s = JSON.parse(stats.body) as ServerStats;
      take({
        atMs: round3(answered - startedAt),
        statsMs: round3(answered - asked),
        busy: s.activeTasks,
        queued: s.queuedTasks,
        inFlight: s.inFlight.now,
        ...(s.database ? { dbBusy: s.database.open - s.database.idle, dbWaiting: s.database.waiting } : {}),
        ...(fileReadMs !== undefined ? { fileReadMs } : {}),
      });
      const wait = SAMPLE_EVERY_MS - (performance.now() - asked);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /**
   * The pools' gauges, read from the server's record every READ_EVERY_MS while the burst runs, then until the
   * server is idle (the last tasks end just before their answers arrive; after Stop, the abandoned ones are ended),
   * but no longer than DRAIN_LIMIT_MS beyond D after the burst.
   */
  private async followPools(
    feed: PoolFeed,
    over: () => boolean,
    delayMs: number,
    take: (read: { from: number; steps: PoolStep[]; untilMs: number }) => void,
  ): Promise<void> {
    let overAt: number | null = null;
    for (;;) {
      const asked = performance.now();
      const read = await feed.read();
      if (read === null) return; // the server is gone: the burst will say so
      take(read);
      if (over()) {
        overAt ??= asked;
        if (read.idle || performance.now() - overAt > delayMs + DRAIN_LIMIT_MS) return;
      }
      const wait = READ_EVERY_MS - (performance.now() - asked);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /** After a burst: a server that died (or stopped answering) under it fails the burst, and the next Fire starts a new one. */
  private async checkAlive(server: RunningServer): Promise<void> {
    if (!server.exited && (await server.answers())) return;
    // A killed server's connections close before its exit is reported: wait for the exit, a little.
    const exited = server.exited ?? (await Promise.race([server.exit, sleep(EXIT_NOTICE_MS).then(() => null)]));
    await this.stopServer();
    throw new Error(
      exited
        ? `the server exited during the burst (${exited.code ?? exited.signal}); Fire starts a new one`
        : 'the server stopped answering during the burst, and was stopped; Fire starts a new one',
    );
  }

  private forgetServer(): void {
    this.server = null;
    this.serverKey = '';
    this.calibration = null;
  }

  private async stopServer(): Promise<void> {
    const server = this.server;
    this.forgetServer();
    if (server) await server.stop();
  }

  /** Stops the burst, the server and PostgreSQL. */
  async close(): Promise<void> {
    this.abort?.abort();
    await this.stopServer();
    await this.postgres?.stop();
    this.postgres = null;
  }
}

/** How long one GET takes, ms (undefined if it fails). */
async function timed(url: string): Promise<number | undefined> {
  const began = performance.now();
  const answer = await httpRequest(url, { timeoutMs: 60_000 });
  return 'error' in answer ? undefined : round3(performance.now() - began);
}

/** The server a burst needs: its config and, for CPU work, D (the work is calibrated to it). */
function keyOf(settings: Settings): string {
  return JSON.stringify(serverConfigOf(settings));
}

/** The burst's label: its scenario and settings, e.g. `sync N=100 P=40 D=3000`. */
export function labelOf(s: Settings): string {
  const uses = SCENARIO_TABLE[s.scenario].uses;
  const parts = [`N=${s.requests}`];
  if (uses.includes('pool')) parts.push(`P=${s.pool}`);
  if (uses.includes('threads')) parts.push(`T=${s.threads}`);
  if (uses.includes('workers')) parts.push(`K=${s.workers}`);
  parts.push(`D=${s.delayMs}`);
  return `${s.scenario} ${parts.join(' ')}`;
}
