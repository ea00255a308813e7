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
 * The model's inputs are measured on each server, on the route it runs, in the same run: w as the burst spends it
 * (where the threads are fewer than the cores, hashes back to back on them; single hashes, one at a time, are recorded
 * beside it), and the cores timed through that route's threads, as many hashes at once as there are cores (a CPU quota
 * or a busy neighbour makes some slower; availableParallelism() does not know). Why two w's: on this project's 2-core
 * machines a core's speed for the same hash drifts by tens of % from one moment to the next, and single hashes a
 * moment apart were 21 % faster than eight in a row on one thread; the server's CPU time per hash (from /proc, beside
 * each w and each burst in the JSON) says whether a slower w was a slower core or a wait for one. With --runtime bun
 * or deno the pool is that runtime's own (its /stats says its size), and the sweep shows what UV_THREADPOOL_SIZE does
 * to it.
 *
 * Run:    npx tsx scripts/libuv-pool.ts [--hash-ms 200] [--requests 8] [--threadpools 1,2,4,8] [--hashes 12] [--quick]
 * Expect: threadpool 1 ≈ 8 · w, threadpools 2, 4, 8 ≈ 8 · w / the cores measured (≈ 4 · w on 2 free cores), each
 *         near its model (medians of 3 bursts), and nearer the same model priced at the CPU per hash the burst
 *         spent where the host's speed moved between timing w and the burst; the file probes beside async hashes wait for the hashes queued
 *         before them (p99 about a wave of hashes), beside pooled hashes they do not (p99 a small part of w). The
 *         hashes beside the probes run over their model: the probes' own work shares the cores.
 * Takes:  51 s in the committed run (results/summary.json); --quick shortens the work to check the shape.
 *         Writes results/libuv-pool.json.
 */
import { LIBUV_POOL } from './lib/results/labels.ts';
import { availableParallelism } from 'node:os';
import { defineExperiment } from './lib/experiment.ts';
import {
  calibrate,
  cpuChange,
  type CpuPerRequest,
  describeCores,
  measureCores,
  measureServedWorkMs,
  measureSustainedWorkMs,
  modelAtBurstCpu,
  workMoved,
  type WorkMoved,
} from './lib/measure/calibrate.ts';
import { cpuMs } from './lib/processes/process-tree.ts';
import { idealCores, predictCpuTotalMs, predictCpuWaveMs } from './lib/model/model.ts';
import { formatTable, ms, printSweep } from './lib/view/table.ts';
import { median } from './lib/model/percentiles.ts';
import { round3 } from '../server/numbers.ts';
import type { Measurement } from './lib/results/types.ts';
import type { RunningServer } from './lib/processes/start-server.ts';
import { hashSync } from '../server/pool-tasks.js';

const cores = availableParallelism();
/** What libuv-pool adds to its results: each route's model inputs as its server did the work, and the trap's figure. */
export interface LibuvPoolResults {
  work: {
    iterations: number;
    cores: number;
    inputs: Record<string, Inputs>;
    /** The inputs whose bursts spent another CPU time per hash than w's own requests (workMoved). */
    workMoved: (WorkMoved & { name: string })[];
  };
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
  /** w from single hashes, one at a time: the mean of the middle ones. */
  workMs: number;
  /** w as a burst on fewer threads than cores spends it, back to back on them; null where the cores bind instead. */
  sustainedWorkMs: number | null;
  /** The w the model uses: the sustained one where there is one, else the single hashes'. */
  modelWorkMs: number;
  coreMs: number[];
  speedUp: number;
  /**
   * The server's CPU time per hash, all its threads (/proc): singly, back to back, and in the measured bursts (the
   * median of their runs, each run's beside it). Where the wall time per hash grew and this did not, the hashes
   * waited for a core; where this grew too, the core ran slower. null without /proc.
   */
  cpuMsPerHash: CpuPerRequest | null;
  /**
   * The burst's model with its work priced at the CPU per hash the bursts spent (modelAtBurstCpu): where the host's
   * speed moved between timing the inputs and the burst, this still holds the threads and the cores. null where no
   * burst's CPU was read.
   */
  modelAtBurstCpuMs: number | null;
}
const inputs: Record<string, Inputs> = {};
const measureInputs = async (server: RunningServer, name: string, route: string, threads: number): Promise<Inputs> => {
  const path = (i: number) => `${route}/${i}`;
  const perHash = (before: number | null, hashes: number) => {
    const after = cpuMs(server.pid);
    return before === null || after === null ? null : round3((after - before) / hashes);
  };
  let cpu = cpuMs(server.pid);
  const work = await measureServedWorkMs(server.url, path);
  const single = perHash(cpu, work.samplesMs.length + 1);
  // Fewer threads than cores: each has a core of its own, and w is what a thread takes per hash, one after another.
  // Else the cores bind: time them through the route's threads.
  cpu = cpuMs(server.pid);
  const sustained = threads < cores ? await measureSustainedWorkMs(server.url, path, threads) : null;
  const sustainedCpu = sustained ? perHash(cpu, sustained.endsMs.length) : null;
  const modelWorkMs = sustained?.ms ?? work.ms;
  cpu = cpuMs(server.pid);
  const measured =
    threads >= cores
      ? await measureCores(server.url, path, cores, work.ms)
      : { coreMs: idealCores(cores, modelWorkMs), speedUp: cores };
  const coresCpu = measured.requests === undefined ? null : perHash(cpu, measured.requests);
  inputs[name] = {
    workMs: work.ms,
    sustainedWorkMs: sustained?.ms ?? null,
    modelWorkMs,
    ...measured,
    cpuMsPerHash: single === null ? null : { single, sustained: sustainedCpu, cores: coresCpu, burst: null, bursts: [] },
    modelAtBurstCpuMs: null,
  };
  experiment.say(
    `${name}: one hash ${work.ms.toFixed(1)} ms on the server (mean of the middle ${work.samplesMs.length - 2} of ${work.samplesMs.length})` +
      (sustained ? `, ${sustained.ms.toFixed(1)} ms each back to back on ${threads} of the ${cores} cores` : '') +
      (threads >= cores ? `; ${describeCores(measured)}` : ''),
  );
  return inputs[name]!;
};

/** Beside each run of a burst: the server's CPU time per hash in it, into that route's inputs (and their median). */
const cpuOfBurst = (server: RunningServer, name: string, hashes: number) => () => {
  const before = cpuMs(server.pid);
  return () => {
    const after = cpuMs(server.pid);
    const recorded = inputs[name]?.cpuMsPerHash;
    if (!recorded || before === null || after === null) return;
    recorded.bursts.push(round3((after - before) / hashes));
    recorded.burst = round3(median(recorded.bursts));
  };
};

/** The model for N hashes on P threads: its total, and how long each wave lasts (for the picture). */
const cpuModel = (
  requests: number,
  poolSize: number,
  { modelWorkMs: workMs, coreMs }: Inputs,
  extra: Record<string, unknown> = {},
) => {
  const work = { requests, poolSize, workMs, coreMs };
  return { predictedMs: round3(predictCpuTotalMs(work)), extra: { waveMs: round3(predictCpuWaveMs(work)), coreMs, ...extra } };
};

// libuv reads UV_THREADPOOL_SIZE once, at start: each size needs a server started with it in its environment. The
// pool's size is the server's word (its /stats): libuv's on Node, and Bun's or Deno's own pool with --runtime.
const serverWithThreadpool = (size: number | undefined, run: (server: RunningServer, threads: number) => Promise<unknown>) =>
  experiment.withServer(
    async () =>
      experiment.watch(
        await experiment.startServer(
          { poolSize: flags.pool, delayMs: 0, hashIterations: iterations },
          { env: { UV_THREADPOOL_SIZE: size === undefined ? undefined : String(size) } },
        ),
      ),
    async (server) => {
      const stats = await server.stats();
      if (stats.runtime === 'node' && size !== undefined && stats.libuvThreadpoolSize !== size)
        experiment.fail(`a server started with UV_THREADPOOL_SIZE=${size} reported ${stats.libuvThreadpoolSize}`);
      const threads = stats.hiddenPool.maxThreads;
      if (stats.runtime !== 'node')
        experiment.say(
          `${stats.runtime}: UV_THREADPOOL_SIZE=${size ?? 'unset'} gives ${stats.hiddenPool.name} ${threads} threads`,
        );
      return run(server, threads);
    },
  );
/** libuv's threadpool size, where it is libuv's (Node). */
const libuvField = (server: RunningServer, threads: number) =>
  server.runtime === 'node' ? { libuvThreadpoolSize: threads } : {};

// 2. The threadpool sweep: N async hashes on T threads; the model knows both limits, threads and cores.
const sweep: Measurement[] = [];
for (const size of flags.threadpools) {
  await serverWithThreadpool(size, async (server, threads) => {
    const name = `threadpool=${size}`;
    const measured = await measureInputs(server, name, '/hash-test', threads);
    sweep.push(
      await experiment.measure(server, {
        label: LIBUV_POOL.threadpool(size),
        endpoint: '/hash-test',
        poolSize: threads,
        requests: flags.requests,
        delayMs: measured.modelWorkMs,
        ...cpuModel(flags.requests, threads, measured, libuvField(server, threads)),
        beside: cpuOfBurst(server, name, flags.requests),
      }),
    );
  });
}

// 3. The trap and the fix, on one server with libuv's default pool: hashes async (libuv) then pooled (tinypool),
//    each with a one-read /file-test probed every few ms beside it.
const file = { label: 'file', path: '/file-test/0', delayMs: 0 };
let defaultThreads = 4;
const [libuvHashes, libuvReads, pooledHashes, pooledReads] = (await serverWithThreadpool(undefined, async (server, threads) => {
  defaultThreads = threads;
  const [libuv, pooled] = [
    await measureInputs(server, 'hash-libuv', '/hash-test', threads),
    await measureInputs(server, 'hash-pool', '/hash-pool-test', flags.pool),
  ];
  return experiment.measureWithProbes(
    server,
    [
      {
        label: LIBUV_POOL.hashLibuv,
        endpoint: '/hash-test',
        poolSize: threads,
        requests: flags.hashes,
        delayMs: libuv.modelWorkMs,
        ...cpuModel(flags.hashes, threads, libuv, libuvField(server, threads)),
      },
      {
        label: LIBUV_POOL.hashPool,
        endpoint: '/hash-pool-test',
        poolSize: flags.pool,
        requests: flags.hashes,
        delayMs: pooled.modelWorkMs,
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
// Each burst's model priced again at the CPU per hash its runs spent: the threads and the cores, with the host's speed
// taken as it was during the burst, not a minute before.
for (const m of [...sweep, libuvHashes!, pooledHashes!]) {
  const i = inputs[m.label];
  if (i) i.modelAtBurstCpuMs = modelAtBurstCpu(m.predictedMs!, i.cpuMsPerHash);
}
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
      trapRow(`libuv's pool (${defaultThreads} threads)`, libuvHashes!, libuvReads!),
      trapRow(`tinypool (${flags.pool} threads)`, pooledHashes!, pooledReads!),
    ],
  ),
);
experiment.say(`\nfile reads beside async hashes: p99 ${ratio.toFixed(1)}× that beside pooled hashes`);

// 5. The model's w and the two it was chosen from, with the server's CPU time per hash beside each: where a w grew
//    and the CPU time did not, the hashes waited for a core; where both grew, the core ran slower.
const cpu = (x: number | null | undefined) => (x === null || x === undefined ? '–' : ms(x));
experiment.say("\nw, MEASURED ON EACH SERVER — wall time per hash, and the server's CPU time per hash beside it\n");
experiment.say(
  formatTable(
    [
      'inputs of',
      'single ms',
      'back to back ms',
      'model w ms',
      'CPU single',
      'CPU back to back',
      'CPU cores timed',
      'CPU in the burst',
    ],
    Object.entries(inputs).map(([name, i]) => [
      name,
      ms(i.workMs),
      cpu(i.sustainedWorkMs),
      ms(i.modelWorkMs),
      cpu(i.cpuMsPerHash?.single),
      cpu(i.cpuMsPerHash?.sustained),
      cpu(i.cpuMsPerHash?.cores),
      cpu(i.cpuMsPerHash?.burst),
    ]),
  ),
);
experiment.say(
  "\nTHE MODEL AT THE BURST'S CPU — the same model, each hash priced at the server's CPU time per hash in the burst\n",
);
experiment.say(
  formatTable(
    ['burst', 'total ms', 'model ms', 'total ÷ model', 'CPU per hash', 'model at it ms', 'total ÷ it'],
    sweep.map((m) => {
      const i = inputs[m.label]!;
      const change = cpuChange(i.cpuMsPerHash);
      const priced = i.modelAtBurstCpuMs;
      return [
        m.label,
        ms(m.totalMs),
        ms(m.predictedMs),
        (m.totalMs / m.predictedMs!).toFixed(3),
        change ? `${change.timedMs.toFixed(0)} → ${change.burstMs.toFixed(0)}` : '–',
        cpu(priced),
        priced === null ? '–' : (m.totalMs / priced).toFixed(3),
      ];
    }),
  ),
);

// A burst whose hashes cost the server another CPU time than when w was timed: the model's w did not hold through
// it, and its ratio says so as much as it says anything about the threads.
const moved = Object.entries(inputs).flatMap(([name, i]) => {
  const change = workMoved(i.cpuMsPerHash);
  return change ? [{ name, ...change }] : [];
});
for (const m of moved)
  experiment.say(
    `${m.name}: its bursts spent ${m.burstMs.toFixed(0)} ms of the server's CPU a hash, ${m.timedMs.toFixed(0)} ms when w was timed ` +
      `(${m.by > 0 ? '+' : ''}${(m.by * 100).toFixed(0)} %): the work itself cost more or less between them (a busy neighbour ` +
      "on the host, a clock that moved), so the model's w did not hold for them, and its ratio holds that as well as the threads; " +
      `the model at the burst's CPU (above) leaves the host's speed out${inputs[m.name]!.modelAtBurstCpuMs === null ? '' : `: ${ms(inputs[m.name]!.modelAtBurstCpuMs)} ms`}.`,
  );

await experiment.finish({
  work: { iterations, cores, inputs, workMoved: moved },
  sweep: chart,
  overlays: [
    {
      name: 'hash-libuv',
      title: `libuv-pool · ${flags.hashes} async hashes (libuv, ${defaultThreads} threads) and /file-test reads beside them`,
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
