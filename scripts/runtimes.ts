/**
 * runtimes — the same server.ts on Node, Bun and Deno, and the pool each of them hides.
 *
 * What it shows: server.ts runs unchanged on all three, and the blog's two bursts come out the same on each: 100
 * awaited timers in one wave of D, 100 blocking sleeps on 40 threads in ceil(100 / 40) = 3 waves. The waves are the
 * pool's, not the runtime's. What differs is the pool each runtime hides behind async crypto, fs and dns.lookup:
 * libuv's threadpool on Node (4 threads, UV_THREADPOOL_SIZE), Bun's own work pool (the cores, at least 2;
 * UV_THREADPOOL_SIZE when 2 or more), tokio's blocking pool on Deno (grown on demand to 32; nothing changes it).
 * Async hashes show that pool only as far as the cores let them (threads beyond the cores share them); opening a FIFO
 * that has no writer burns no CPU, so FIFO opens show it whole, in waves of its size, and its threads are counted in
 * /proc before and during each burst. A file read sent beside the hashes waits behind them where the pool is smaller
 * than the burst (libuv's trap, and Bun's), not on Deno's. And what each costs: the server's memory with 40 pool
 * threads warm, 10 000 awaited requests (the total, and the server's own intake and output), and --workers 2 where the
 * runtime can run it.
 *
 * Every figure is beside its model, and the model's inputs come from the server under test, in the same run: the
 * hidden pool's size from its /stats, a hash's time and the cores' from hashes it served (back to back where the
 * threads are fewer than the cores, as the burst spends them). The client runs on Node throughout.
 *
 * Run:    npx tsx scripts/runtimes.ts [--runtimes node,bun,deno] [--quick]
 * Expect: on each runtime, async in one wave of D and sync in ceil(N / 40) waves, each near its model; hashes in
 *         steps of the hidden pool where it is smaller than the cores, else all sharing the cores; FIFO opens in
 *         waves of the pool's size, the threads blocked per round counted in /proc; a file read beside the hashes
 *         waiting behind them where the pool is full (at most the first-in, first-out bound), not where it is not;
 *         D + intake + output beside the 10 000-request total; --workers 2 in the waves of its split, refused on
 *         Deno in one sentence. A runtime that cannot run here is skipped with the reason.
 * Takes:  per runtime, the blog's bursts (D, 3 · D and the large one), six server starts for the hidden pool, a
 *         cluster (the committed run's time is in results/summary.json); --quick shortens D and N to check the
 *         shape, and measures the hidden pool at its default size only, on the blog's server. Writes
 *         results/runtimes.json.
 *
 * About 400 lines in one file: one comparison, runtime by runtime, whose parts (the blog's bursts, the hidden pool,
 * the costs, the cluster) each read like a short script; split, each would repeat the same per-runtime frame.
 */
import { availableParallelism } from 'node:os';
import { defineExperiment, type PlannedBurst } from './lib/experiment.ts';
import { RUNTIMES_EXPERIMENT as LABELS, probeLabel } from './lib/results/labels.ts';
import { findRuntime } from './lib/processes/runtimes.ts';
import { treeRss } from './lib/processes/process-tree.ts';
import type { RunningServer, ServerOptions } from './lib/processes/start-server.ts';
import { calibrate, measureCores, measureServedWorkMs, measureSustainedWorkMs } from './lib/measure/calibrate.ts';
import { accountOf, type Account } from './lib/measure/server-account.ts';
import {
  CAN_SEE_THREADS,
  FifoFolder,
  countThreads,
  countThreadsNamed,
  threadsByName,
  type FifoRound,
} from './lib/measure/hidden-pool.ts';
import { idealCores, predictCpuTotalMs, predictCpuWaveMs, predictTotalMs } from './lib/model/model.ts';
import { waveSizes } from './lib/model/waves.ts';
import { isOk } from './lib/client/burst-types.ts';
import { UserError } from './lib/core/outcomes.ts';
import { formatTable, ms, splitText } from './lib/view/table.ts';
import type { Measurement } from './lib/results/types.ts';
import { round3 } from '../server/numbers.ts';
import { RUNTIMES, type HiddenPool, type Runtime } from '../server/runtime.ts';
import { hashSync } from '../server/pool-tasks.js';

/** What runtimes adds to its results: a row per runtime, each figure's evidence beside the measurements. */
export interface RuntimesResults {
  runtimes: RuntimeRow[];
}

export interface RuntimeRow {
  runtime: Runtime;
  /** Its version, or null where it cannot run here (`missing` says why). */
  runtimeVersion: string | null;
  missing?: string;
  /** Where it runs async crypto, fs and dns.lookup, as its /stats says with UV_THREADPOOL_SIZE unset. */
  hiddenPool?: HiddenPool;
  /** At the ready line, the blog's pool of threads warm: the server's RSS (its /stats) and its threads (/proc). */
  atReady?: { poolSize: number; rssBytes: number; threads: number | null; threadsByName: Record<string, number> };
  /** The large async burst taken apart by the server's own clock: D + intake + output. */
  manyAsync?: { label: string } & Account;
  hashes?: HashRow[];
  fileRead?: FileReadRow;
  fifo?: FifoRow[];
  /** --workers 2: its measurement, or the server's own sentence where the runtime refuses it. */
  cluster?: { label: string } | { refused: string };
}

/** A burst on the hidden pool at one UV_THREADPOOL_SIZE: its measurement, the pool's size, its threads. */
export interface PoolBurstRow {
  /** UV_THREADPOOL_SIZE in the server's environment; null: unset. */
  threadpool: number | null;
  label: string;
  /** The pool's size as the server's /stats gives it: the model's P. */
  poolSize: number;
  /** Its threads in /proc: by the name the runtime gives them, or all the server's threads where it names none. */
  countedBy: string;
  threadsBefore: number | null;
  /** The most seen while the burst ran (sampled every few ms). */
  threadsDuring: number | null;
}

/** The hidden pool under async hashes, read as find-pool reads CPU work. */
export interface HashRow extends PoolBurstRow {
  /** w from single hashes; and back to back on the pool's threads where they are fewer than the cores (the model's). */
  workMs: number;
  sustainedWorkMs: number | null;
  coreMs: number[];
  /** Requests' worth of work done side by side: N · w / total. */
  effectiveParallelism: number;
}

/** A file read sent beside the hashes, with the runtime's pool at its default size. */
export interface FileReadRow {
  /** The probe's measurement. */
  label: string;
  /** One read alone, the mean of single ones. */
  aloneMs: number;
  /**
   * The most a read sent at the burst's start can wait where the queue is first in, first out (libuv's): floor(N / P)
   * waves of hashes, 0 where the pool has a thread to spare. A pool that takes its work out of order (Bun's) makes it
   * wait less.
   */
  predictedMaxMs: number;
}

/** The hidden pool under FIFO opens, which burn no CPU: waves of its own size. */
export interface FifoRow extends PoolBurstRow {
  /** Each round: the threads blocked in open() (/proc's wait channel), then as many let go. */
  rounds: FifoRound[];
}

const cores = availableParallelism();
const experiment = defineExperiment({
  about:
    'Runs server.ts on Node, Bun and Deno: the blog’s bursts, the pool each runtime hides behind async crypto and fs ' +
    '(hashes, FIFO opens, its threads counted), a file read beside the hashes, memory, 10 000 awaited requests, --workers 2.',
  numbers: {
    requests: { help: "the blog's bursts: requests fired at once", default: 100, quick: 30 },
    delayMs: { help: "the blog's D, ms", default: 3000, quick: 200, min: 1, max: 600_000 },
    pool: { help: "the blog's pool of threads (FastAPI's 40)", default: 40, quick: 10, max: 1024 },
    manyRequests: { help: 'the large async burst', default: 10_000, quick: 1000, max: 20_000 },
    hashMs: { help: 'CPU work of one hash: about this many ms of one core here', default: 100, quick: 40, max: 10_000 },
    hashes: { help: 'hashes fired at once', default: 8, max: 1000 },
    fifoRequests: { help: 'FIFO opens fired at once (beyond Deno’s 32, for a second wave)', default: 40, quick: 34, max: 1000 },
    fifoRoundMs: { help: 'how long the blocked FIFO readers wait between two rounds, ms', default: 200, quick: 100, max: 10_000 },
    workers: { help: 'processes for the cluster burst', default: 2, max: 16 },
  },
  lists: {
    // --quick: unset only. 1 is the one size below Node's 4 that a quick run could show, and libuv-pool.ts's --quick
    // sweeps Node's already; Bun takes 2 or more, Deno none.
    threadpools: { help: 'UV_THREADPOOL_SIZE values for the hashes, beside unset', default: [1, 2, 8], quick: [], max: 1024 },
    fifoThreadpools: { help: 'UV_THREADPOOL_SIZE values for the FIFO opens, beside unset', default: [8], quick: [], max: 1024 },
  },
  texts: { runtimes: { help: 'the runtimes to compare, in order (default node,bun,deno)', value: 'A,B,…' } },
  notApplicable: { runtime: 'it runs server.ts on each of --runtimes itself' },
}).withResults<RuntimesResults>();
const { flags } = experiment;
const runtimes = parseRuntimes(flags.runtimes ?? RUNTIMES.join(','));
const { iterations } = calibrate(flags.hashMs, hashSync, 10_000);
const rows: RuntimeRow[] = [];
const fifos = new FifoFolder(flags.fifoRequests);

try {
  for (const runtime of runtimes) {
    const found = findRuntime(runtime);
    if ('missing' in found) {
      experiment.say(`\n━━ ${runtime}: skipped, ${found.missing}`);
      rows.push({ runtime, runtimeVersion: null, missing: found.missing });
      continue;
    }
    experiment.say(`\n━━ ${runtime} ${found.version}`);
    const row: RuntimeRow = { runtime, runtimeVersion: found.version };
    rows.push(row);
    await parts(runtime, row);
  }
} finally {
  fifos.remove();
}

printTables();
await experiment.finish({ runtimes: rows, params: { runtimes: runtimes.join(','), hashIterations: iterations } });

// ─── The parts, each on the runtime's own servers ───────────────────────────────────────────────────────────────

/**
 * The parts on `runtime`, each on servers of its own, in order: the blog's bursts and the costs, the hidden pool under
 * hashes and under FIFO opens at each UV_THREADPOOL_SIZE, the cluster. In --quick the hidden pool at its default size
 * is measured on the blog's server, after the blog's bursts: its routes touch neither the blog's pool nor D, and every
 * burst before it was answered in full. Two starts saved per runtime.
 */
async function parts(runtime: Runtime, row: RuntimeRow): Promise<void> {
  const blog: ServerOptions = { poolSize: flags.pool, delayMs: flags.delayMs };
  const hashing: ServerOptions = { poolSize: cores, delayMs: 0, hashIterations: iterations };
  const opening: ServerOptions = { poolSize: 1, delayMs: 0, fifoDir: fifos.dir };
  /** server.ts on `runtime` with UV_THREADPOOL_SIZE `threadpool`, watched (its death mid-run ends the run as interrupted). */
  const on = (options: ServerOptions, threadpool: number | null, part: (server: RunningServer) => Promise<void>) =>
    experiment.withServer(
      async () => experiment.watch(await experiment.startServer(options, { runtime, env: uvEnv(threadpool) })),
      part,
    );
  row.hashes = [];
  row.fifo = [];
  if (!CAN_SEE_THREADS) experiment.say('FIFO opens skipped: the threads blocked in open() are counted in /proc');
  if (flags.quick) {
    await on({ ...blog, hashIterations: iterations, fifoDir: fifos.dir }, null, async (server) => {
      await blogAndCosts(server, row);
      await hiddenPoolUnderHashes(server, null, row);
      if (CAN_SEE_THREADS) await hiddenPoolUnderFifoOpens(server, null, row);
    });
  } else {
    await on(blog, null, (server) => blogAndCosts(server, row));
    await on(hashing, null, (server) => hiddenPoolUnderHashes(server, null, row));
  }
  for (const threadpool of flags.threadpools)
    await on(hashing, threadpool, (server) => hiddenPoolUnderHashes(server, threadpool, row));
  if (CAN_SEE_THREADS) {
    if (!flags.quick) await on(opening, null, (server) => hiddenPoolUnderFifoOpens(server, null, row));
    for (const threadpool of flags.fifoThreadpools)
      await on(opening, threadpool, (server) => hiddenPoolUnderFifoOpens(server, threadpool, row));
  }
  await cluster(runtime, row);
}

/** The blog's two bursts on the blog's pool; its memory and threads at the ready line; 10 000 awaited timers. */
async function blogAndCosts(server: RunningServer, row: RuntimeRow): Promise<void> {
  const { requests, delayMs, pool } = flags;
  const { runtime } = row;
  const ready = await server.stats();
  row.hiddenPool = ready.hiddenPool;
  row.atReady = {
    poolSize: pool,
    rssBytes: ready.rssBytes,
    threads: CAN_SEE_THREADS ? countThreads(server.pid) : null,
    threadsByName: CAN_SEE_THREADS ? threadsByName(server.pid) : {},
  };
  const rss = treeRss(server.pid)?.rssBytes;
  experiment.say(
    `at ready: ${mb(ready.rssBytes)} (its /stats${rss ? `; ${mb(rss)} in /proc` : ''}) with ${pool} pool threads warm, ` +
      `${row.atReady.threads ?? '?'} threads in all; hidden pool: ${ready.hiddenPool.name}, up to ${ready.hiddenPool.maxThreads} threads`,
  );
  const burst = { requests, delayMs };
  await experiment.measure(server, { label: LABELS.async(runtime), endpoint: '/asyncio-test', poolSize: null, ...burst });
  await experiment.measure(server, { label: LABELS.sync(runtime), endpoint: '/sync-test', poolSize: pool, ...burst });
  // As fidelity takes a total apart: D + the server's intake (first to last arrival) + its output (the last timer
  // due to the last answer written). The model is D; the account is what this server added to it.
  const many = await experiment.measure(server, {
    label: LABELS.manyAsync(runtime, flags.manyRequests),
    endpoint: '/asyncio-test',
    poolSize: null,
    requests: flags.manyRequests,
    delayMs,
  });
  const account = accountOf(many.server, delayMs);
  if (account) row.manyAsync = { label: many.label, ...account };
}

/**
 * Async hashes on a server started with UV_THREADPOOL_SIZE `threadpool`: the pool's steps, the cores' parallelism, its
 * threads; with the pool at its default size, a file read beside.
 */
async function hiddenPoolUnderHashes(server: RunningServer, threadpool: number | null, row: RuntimeRow): Promise<void> {
  const { runtime } = row;
  const { hiddenPool } = await server.stats();
  const p = hiddenPool.maxThreads;
  const path = (i: number) => `/hash-test/${i}`;
  const single = await measureServedWorkMs(server.url, path);
  // The model's w as the burst spends it: back to back where each thread has a core; else the cores bind.
  const sustained = p < cores ? await measureSustainedWorkMs(server.url, path, p) : null;
  const w = sustained?.ms ?? single.ms;
  const { coreMs } = p >= cores ? await measureCores(server.url, path, cores, single.ms) : { coreMs: idealCores(cores, w) };
  const work = { requests: flags.hashes, poolSize: p, workMs: w, coreMs };
  const waveMs = round3(predictCpuWaveMs(work));
  const label = LABELS.hashes(runtime, threadpool);
  const watched = watchThreads(server.pid, hiddenPool, { threadpool, label, poolSize: p });
  const plan: PlannedBurst = {
    label,
    endpoint: '/hash-test',
    poolSize: p,
    requests: flags.hashes,
    delayMs: w,
    predictedMs: round3(predictCpuTotalMs(work)),
    extra: { waveMs, coreMs, ...(runtime === 'node' ? { libuvThreadpoolSize: p } : {}) },
    beside: watched.beside,
  };
  // With the pool at its default size, a one-read /file-test every few ms beside the hashes: libuv's trap.
  const file = { label: 'file', path: '/file-test/0', delayMs: 0 };
  const fileAlone = threadpool === null ? await measureServedWorkMs(server.url, () => file.path) : null;
  const [m] = await experiment.measureWithProbes(server, [plan], fileAlone ? [file] : [], 20);
  const measured = m!;
  experiment.amend(measured, { waves: waveSizes(measured.requests.filter(isOk), waveMs) });
  row.hashes!.push({
    ...watched.row(),
    workMs: single.ms,
    sustainedWorkMs: sustained?.ms ?? null,
    coreMs,
    effectiveParallelism: round3((flags.hashes * w) / measured.totalMs),
  });
  if (fileAlone) {
    row.fileRead = {
      label: probeLabel(label, file.label),
      aloneMs: fileAlone.ms,
      predictedMaxMs: flags.hashes >= p ? round3(Math.floor(flags.hashes / p) * waveMs) : 0,
    };
  }
}

/**
 * FIFO opens on a server started with UV_THREADPOOL_SIZE `threadpool`, which block a thread of the hidden pool and burn
 * nothing: waves of the pool's own size.
 */
async function hiddenPoolUnderFifoOpens(server: RunningServer, threadpool: number | null, row: RuntimeRow): Promise<void> {
  const { runtime } = row;
  const { hiddenPool } = await server.stats();
  const p = hiddenPool.maxThreads;
  const rounds: FifoRound[] = [];
  const release = fifos.releaseEvery(server.pid, flags.fifoRoundMs, rounds);
  const label = LABELS.fifo(runtime, threadpool);
  const watched = watchThreads(server.pid, hiddenPool, { threadpool, label, poolSize: p });
  const m = await experiment.measure(server, {
    label,
    endpoint: '/fifo-test',
    poolSize: p,
    requests: flags.fifoRequests,
    delayMs: flags.fifoRoundMs,
    client: 'raw', // it says when its requests are written, which starts the rounds
    beside: (startedAt) => {
      const stopReleasing = release(startedAt);
      const stopSampling = watched.beside();
      return () => {
        stopReleasing();
        stopSampling();
      };
    },
  });
  experiment.amend(m, { waves: waveSizes(m.requests.filter(isOk), flags.fifoRoundMs) });
  row.fifo!.push({
    ...watched.row(),
    rounds: [...rounds],
  });
}

/** --workers K: the blog's sync burst over K processes of the blog's pool, or the runtime's refusal in its words. */
async function cluster(runtime: Runtime, row: RuntimeRow): Promise<void> {
  const k = flags.workers;
  let server: RunningServer;
  try {
    server = await experiment.startServer({ poolSize: flags.pool, delayMs: flags.delayMs, workers: k }, { runtime });
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    // The server's own sentence (server.ts says why it cannot), without the launcher's words around it.
    const said = /server\.ts: (.*)$/m.exec(error.message)?.[1] ?? error.message;
    row.cluster = { refused: said };
    return void experiment.say(`--workers ${k}: ${said}`);
  }
  await experiment.withServer(
    async () => experiment.watch(server),
    async () => {
      const even = predictTotalMs({ requests: flags.requests, poolSize: k * flags.pool, delayMs: flags.delayMs });
      const m = await experiment.measure(server, {
        label: LABELS.workers(runtime, k),
        endpoint: '/sync-test',
        poolSize: flags.pool,
        requests: flags.requests,
        delayMs: flags.delayMs,
        predictedMs: even,
        extra: { workers: k },
      });
      // The model from the split that happened: the busiest process's waves.
      const split = Object.values(m.perWorker ?? {});
      const fromSplit = Math.max(
        0,
        ...split.map((n) => predictTotalMs({ requests: n, poolSize: flags.pool, delayMs: flags.delayMs })),
      );
      experiment.amend(m, { predictedFromSplitMs: fromSplit });
      row.cluster = { label: m.label };
    },
  );
}

// ─── What the parts share ───────────────────────────────────────────────────────────────────────────────────────

function uvEnv(threadpool: number | null): NodeJS.ProcessEnv {
  return { UV_THREADPOOL_SIZE: threadpool === null ? undefined : String(threadpool) };
}

/** How to count the hidden pool's threads from outside: by their name where the runtime names them, else all. */
function threadCounter(pid: number, pool: HiddenPool): { by: string; count: () => number | null } {
  if (!CAN_SEE_THREADS) return { by: 'not counted (no /proc)', count: () => null };
  const named = pool.threadName;
  return named
    ? { by: `named ${named}…`, count: () => countThreadsNamed(pid, named) }
    : { by: 'all its threads: Node names none', count: () => countThreads(pid) };
}

/**
 * The hidden pool's threads around a burst: counted now, and sampled every 10 ms while it runs (`beside`, from its
 * start to its end); `row` is what was seen, with the burst's own fields.
 */
function watchThreads(
  pid: number,
  pool: HiddenPool,
  burst: Pick<PoolBurstRow, 'threadpool' | 'label' | 'poolSize'>,
): { beside: () => () => void; row: () => PoolBurstRow } {
  const counter = threadCounter(pid, pool);
  const before = counter.count();
  let during = before;
  const sample = () => {
    const now = counter.count();
    if (now !== null) during = Math.max(during ?? now, now);
  };
  return {
    beside: () => {
      sample();
      const timer = setInterval(sample, 10);
      return () => clearInterval(timer);
    },
    row: () => ({ ...burst, countedBy: counter.by, threadsBefore: before, threadsDuring: during }),
  };
}

function parseRuntimes(text: string): Runtime[] {
  const names = text.split(',').map((name) => name.trim());
  const unknown = names.find((name) => !(RUNTIMES as readonly string[]).includes(name));
  if (unknown !== undefined || names.length === 0)
    throw new UserError(`runtimes.ts: --runtimes takes names from ${RUNTIMES.join(', ')}, got "${text}".`, 2);
  return [...new Set(names)] as Runtime[];
}

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MB`;
}

// ─── The tables ─────────────────────────────────────────────────────────────────────────────────────────────────

function printTables(): void {
  const found = (label: string): Measurement | undefined => experiment.measurements.find((m) => m.label === label);
  const beside = (m: Measurement | undefined) => (m ? `${ms(m.totalMs)} (model ${ms(m.predictedMs)})` : '–');
  experiment.say(`\nRUNTIMES — the blog's ${flags.requests} requests of ${flags.delayMs} ms, pool of ${flags.pool}\n`);
  experiment.say(
    formatTable(
      [
        'runtime',
        'version',
        'async ms',
        'sync ms',
        `async × ${flags.manyRequests} ms`,
        'D + intake + output',
        'RSS at ready',
        `--workers ${flags.workers}`,
      ],
      rows.map((r) => {
        if (!r.runtimeVersion) return [r.runtime, `skipped: ${r.missing}`, '', '', '', '', '', ''];
        const cluster = r.cluster && 'label' in r.cluster ? found(r.cluster.label) : undefined;
        return [
          r.runtime,
          r.runtimeVersion,
          beside(found(LABELS.async(r.runtime))),
          beside(found(LABELS.sync(r.runtime))),
          beside(found(LABELS.manyAsync(r.runtime, flags.manyRequests))),
          r.manyAsync
            ? `${ms(r.manyAsync.accountedMs)} (intake ${ms(r.manyAsync.intakeMs)}, output ${ms(r.manyAsync.outputMs)})`
            : '–',
          r.atReady ? mb(r.atReady.rssBytes) : '–',
          cluster
            ? `${ms(cluster.totalMs)} (split ${splitText(cluster.perWorker ?? {}, { count: flags.workers })}: model ${ms(cluster.predictedFromSplitMs)})`
            : r.cluster && 'refused' in r.cluster
              ? 'refused'
              : '–',
        ];
      }),
    ),
  );
  experiment.say(
    `\nTHE HIDDEN POOL — ${flags.hashes} async hashes (CPU) and ${flags.fifoRequests} FIFO opens (no CPU) at once, ${cores} cores\n`,
  );
  experiment.say(
    formatTable(
      ['burst', 'P (/stats)', 'threads before → during', 'total ms', 'model ms', 'waves', 'side by side'],
      rows.flatMap((r) => [
        ...(r.hashes ?? []).map((h) => {
          const m = found(h.label);
          return [
            h.label,
            h.poolSize,
            `${h.threadsBefore ?? '?'} → ${h.threadsDuring ?? '?'}`,
            ms(m?.totalMs),
            ms(m?.predictedMs),
            (m?.waves ?? []).join(', '),
            h.effectiveParallelism.toFixed(2),
          ];
        }),
        ...(r.fifo ?? []).map((f) => {
          const m = found(f.label);
          const blocked = f.rounds
            .map((round) => round.blocked)
            .filter((n) => n > 0)
            .join(', ');
          return [
            f.label,
            f.poolSize,
            `${f.threadsBefore ?? '?'} → ${f.threadsDuring ?? '?'}`,
            ms(m?.totalMs),
            ms(m?.predictedMs),
            `${(m?.waves ?? []).join(', ')} (blocked: ${blocked})`,
            '–',
          ];
        }),
      ]),
    ),
  );
  experiment.say('\nA FILE READ BESIDE THE HASHES (the pool at its default size)\n');
  experiment.say(
    formatTable(
      ['runtime', 'alone ms', 'p50 ms', 'p99 ms', 'max ms', 'model: most a read waits (first in, first out)'],
      rows.flatMap((r) => {
        const reads = r.fileRead ? found(r.fileRead.label) : undefined;
        return r.fileRead && reads
          ? [
              [
                r.runtime,
                ms(r.fileRead.aloneMs),
                ms(reads.latencyMs.p50),
                ms(reads.latencyMs.p99),
                ms(reads.latencyMs.max),
                ms(r.fileRead.predictedMaxMs),
              ],
            ]
          : [];
      }),
    ),
  );
  for (const r of rows) {
    if (r.cluster && 'refused' in r.cluster) experiment.say(`\n${r.runtime}, --workers ${flags.workers}: ${r.cluster.refused}`);
  }
}
