/**
 * libuv-pool — Node's own hidden pool: libuv's four threads under async crypto and fs.
 *
 * What it shows: "async" does not mean "no pool". An async crypto.pbkdf2 leaves the event loop free, but runs
 * on libuv's threadpool, 4 threads unless UV_THREADPOOL_SIZE says otherwise at start. N password hashes of w ms
 * take ceil(N / T) waves on T threads, as long as the cores keep up: on C cores, threads beyond C share them, so
 * here (2 cores) T = 1 is N waves, and T = 2, 4 or 8 all take N · w / 2: from T = 2 on, the cores bind, not the
 * threads. The trap: every async fs call runs on the same four threads, so a burst of hashes makes a one-read
 * /file-test wait behind them, for up to a wave of hashes. The same hashes as pbkdf2Sync in a tinypool pool
 * sized to the cores take as long (the cores bind either way), but leave libuv's threads free: the file reads
 * beside them answer in a millisecond or two. The model is the same ceil(N / P) · D, with P hidden in libuv.
 *
 * The model's inputs are measured on each server, on the route it runs, in the same run: w is the mean of warm
 * single hashes there, and the cores are timed through that route's threads, as many hashes at once as there are
 * cores (a CPU quota or a busy neighbour makes some slower; availableParallelism() does not know).
 *
 * Run:    npx tsx scripts/libuv-pool.ts [--hash-ms 200] [--requests 8] [--threadpools 1,2,4,8] [--hashes 12] [--quick]
 * Expect: threadpool 1 ≈ 8 · w, threadpools 2, 4, 8 ≈ 8 · w / the cores measured (≈ 4 · w on 2 free cores), each
 *         near its model (medians of 3 bursts); the file probes beside async hashes wait for the hashes queued
 *         before them (p99 about a wave of hashes), beside pooled hashes they do not (p99 a small part of w). The
 *         hashes beside the probes run over their model: the probes' own work shares the cores.
 * Takes:  49 s in the committed run (results/summary.json); --quick shortens the work to check the shape.
 *         Writes results/libuv-pool.json.
 */
import { LIBUV_POOL } from './lib/results/labels.ts';
import { availableParallelism } from 'node:os';
import { defineExperiment } from './lib/experiment.ts';
import { calibrate, measureCores, measureServedWorkMs } from './lib/measure/calibrate.ts';
import { idealCores, predictCpuTotalMs, predictCpuWaveMs } from './lib/model/model.ts';
import { formatTable, ms, printSweep } from './lib/view/table.ts';
import { round3 } from '../server/numbers.ts';
import type { Measurement } from './lib/results/types.ts';
import type { TargetServer } from './lib/processes/start-server.ts';
import { hashSync } from '../server/pool-tasks.js';

const cores = availableParallelism();
/** What libuv-pool adds to its results: each route's model inputs as its server did the work, and the trap's figure. */
export interface LibuvPoolResults {
  work: { iterations: number; cores: number; inputs: Record<string, Inputs> };
  /** The file reads' p99 beside async hashes ÷ that beside pooled ones. */
  fileReadP99Ratio: number;
  ioUring: string;
}

const experiment = defineExperiment({
  about: "Sweeps libuv's threadpool under async password hashes, then shows file reads waiting behind them, and the fix.",
  numbers: {
    hashMs: { help: 'CPU work of one hash: about this many ms of one core here', default: 200, quick: 60, min: 10, max: 10_000 },
    requests: { help: 'hashes fired at once in the threadpool sweep', default: 8, quick: 4 },
    hashes: { help: 'hashes fired at once beside the file probes', default: 12, quick: 8 },
    pool: { help: 'tinypool threads for the pooled hashes (sized to the cores)', default: cores, max: 1024 },
    // Every 10 ms: a hundred reads a second show every wait, and their own work takes little from the hashes.
    probeEveryMs: { help: 'one /file-test probe every this many ms', default: 10, max: 10_000 },
  },
  lists: {
    threadpools: {
      help: "UV_THREADPOOL_SIZE values to try (libuv's default is 4)",
      default: [1, 2, 4, 8],
      quick: [1, 2, 4],
      max: 1024,
    },
  },
  // Eight threads time-sliced on two cores once came in 19 % above the model in a single burst and within 5 %
  // in the next two: a median of three, with the range, is the figure.
  defaultRepeat: 3,
}).withResults<LibuvPoolResults>();
const { flags } = experiment;

// 1. How much work a hash is: the pbkdf2 iterations of about hashMs here (the same function the pool threads run).
const { iterations } = calibrate(flags.hashMs, hashSync, 10_000);

/** The model's inputs for one route of one server, measured there: w, and the cores as that route's threads get them. */
export interface Inputs {
  workMs: number;
  coreMs: number[];
  speedUp: number;
}
const inputs: Record<string, Inputs> = {};
const measureInputs = async (server: TargetServer, name: string, route: string, threads: number): Promise<Inputs> => {
  const path = (i: number) => `${route}/${i}`;
  const work = await measureServedWorkMs(server.url, path);
  // With fewer threads than cores, each has a core to itself and only w counts; else time the cores through them.
  const measured =
    threads >= cores
      ? await measureCores(server.url, path, cores, work.ms)
      : { coreMs: idealCores(cores, work.ms), speedUp: cores };
  inputs[name] = { workMs: work.ms, ...measured };
  experiment.say(
    `${name}: one hash ${work.ms.toFixed(1)} ms on the server (mean of the middle ${work.samplesMs.length - 2} of ${work.samplesMs.length})` +
      (threads >= cores
        ? `; ${cores} at once took ${measured.coreMs.map((t) => t.toFixed(0)).join(', ')} ms, ${measured.speedUp.toFixed(2)} side by side`
        : ''),
  );
  return inputs[name]!;
};

/** The model for N hashes on P threads: its total, and how long each wave lasts (for the picture). */
const cpuModel = (requests: number, poolSize: number, { workMs, coreMs }: Inputs, extra: Record<string, unknown> = {}) => {
  const work = { requests, poolSize, workMs, coreMs };
  return { predictedMs: round3(predictCpuTotalMs(work)), extra: { waveMs: round3(predictCpuWaveMs(work)), coreMs, ...extra } };
};

// libuv reads UV_THREADPOOL_SIZE once, at start: each size needs a server started with it in its environment.
const serverWithThreadpool = (size: number | undefined, run: (server: TargetServer) => Promise<unknown>) =>
  experiment.withServer(
    () =>
      experiment.server(
        { poolSize: flags.pool, delayMs: 0, hashIterations: iterations },
        { env: { UV_THREADPOOL_SIZE: size === undefined ? undefined : String(size) } },
      ),
    async (server) => {
      const reported = (await server.stats!()).libuvThreadpoolSize;
      if (size !== undefined && reported !== size)
        experiment.fail(`a server started with UV_THREADPOOL_SIZE=${size} reported ${reported}`);
      return run(server);
    },
  );

// 2. The threadpool sweep: N async hashes on T threads; the model knows both limits, threads and cores.
const sweep: Measurement[] = [];
for (const size of flags.threadpools) {
  await serverWithThreadpool(size, async (server) => {
    const measured = await measureInputs(server, `threadpool=${size}`, '/hash-test', size);
    sweep.push(
      await experiment.measure(server, {
        label: LIBUV_POOL.threadpool(size),
        endpoint: '/hash-test',
        poolSize: size,
        requests: flags.requests,
        delayMs: measured.workMs,
        ...cpuModel(flags.requests, size, measured, { libuvThreadpoolSize: size }),
      }),
    );
  });
}

// 3. The trap and the fix, on one server with libuv's default pool: hashes async (libuv) then pooled (tinypool),
//    each with a one-read /file-test probed every few ms beside it.
const file = { label: 'file', path: '/file-test/0', delayMs: 0 };
const [libuvHashes, libuvReads, pooledHashes, pooledReads] = (await serverWithThreadpool(undefined, async (server) => {
  const [libuv, pooled] = [
    await measureInputs(server, 'hash-libuv', '/hash-test', 4),
    await measureInputs(server, 'hash-pool', '/hash-pool-test', flags.pool),
  ];
  return experiment.measureWithProbes(
    server,
    [
      {
        label: LIBUV_POOL.hashLibuv,
        endpoint: '/hash-test',
        poolSize: 4,
        requests: flags.hashes,
        delayMs: libuv.workMs,
        ...cpuModel(flags.hashes, 4, libuv, { libuvThreadpoolSize: 4 }),
      },
      {
        label: LIBUV_POOL.hashPool,
        endpoint: '/hash-pool-test',
        poolSize: flags.pool,
        requests: flags.hashes,
        delayMs: pooled.workMs,
        ...cpuModel(flags.hashes, flags.pool, pooled),
      },
    ],
    [file],
    flags.probeEveryMs,
  );
})) as Measurement[];
const w = Object.values(inputs)[0]!.workMs;
const speedUp = inputs['hash-libuv']!.speedUp;

// 4. The sweep beside the model; then what the file reads waited beside each kind of hashing.
const chart = printSweep(sweep, {
  title: `libuv-pool · ${flags.requests} async pbkdf2 hashes of ${w.toFixed(0)} ms on ${cores} cores (${speedUp.toFixed(2)} side by side, measured)`,
  xLabel: 'UV_THREADPOOL_SIZE',
  pointLabel: (m) => `T = ${m.poolSize}`,
  quiet: flags.quiet,
});
const ratio = libuvReads!.latencyMs.p99 / Math.max(pooledReads!.latencyMs.p99, 0.001);
experiment.say(`\nTHE TRAP — ${flags.hashes} hashes, a /file-test read every ${flags.probeEveryMs} ms beside them\n`);
const trapRow = (on: string, hashes: Measurement, reads: Measurement) => [
  on,
  ms(hashes.totalMs),
  ms(hashes.predictedMs),
  reads.concurrency,
  ms(reads.latencyMs.p50),
  ms(reads.latencyMs.p99),
  ms(reads.latencyMs.max),
];
experiment.say(
  formatTable(
    ['hashes run on', 'total ms', 'model ms', 'file reads', 'read p50 ms', 'read p99 ms', 'read max ms'],
    [
      trapRow(`libuv's pool (4 threads)`, libuvHashes!, libuvReads!),
      trapRow(`tinypool (${flags.pool} threads)`, pooledHashes!, pooledReads!),
    ],
  ),
);
experiment.say(`\nfile reads beside async hashes: p99 ${ratio.toFixed(1)}× that beside pooled hashes`);

await experiment.finish({
  work: { iterations, cores, inputs },
  sweep: chart,
  overlays: [
    {
      name: 'hash-libuv',
      title: `libuv-pool · ${flags.hashes} async hashes (libuv, 4 threads) and /file-test reads beside them`,
      labels: ['hash-libuv', 'hash-libuv-probe-file'],
    },
    {
      name: 'hash-pool',
      title: `libuv-pool · ${flags.hashes} pooled hashes (tinypool, ${flags.pool} threads) and /file-test reads beside them`,
      labels: ['hash-pool', 'hash-pool-probe-file'],
    },
  ],
  fileReadP99Ratio: Math.round(ratio * 10) / 10,
  ioUring:
    process.env.UV_USE_IO_URING === '1'
      ? 'on (UV_USE_IO_URING=1)'
      : 'off: Node 20 keeps it off unless UV_USE_IO_URING=1, so fs goes through the threadpool',
});
