/**
 * find-pool — the P of any endpoint, found from the outside with nothing but requests.
 *
 * What it shows: every kind of waiting has a pool somewhere; find its P, and ceil(N / P) · D tells you the rest.
 * Given an endpoint, it fires bursts of N = 2, 4, 8, … until a second wave of completions appears, reads P from the
 * first wave and D from one request alone, confirms with N = P (one wave) and N = P + 1 (two), and says what kind of
 * limit it is: a pool, no limit up to the N it may try, CPU work that shares the cores, several processes that split
 * a burst unevenly, a queue that refuses beyond some N. Where the server takes connections in more slowly than a burst
 * brings them (a small backlog, one acceptor, TLS), it reads each request from its own start of service and says so.
 * The largest P it can find is --max-requests − 1. Run with no --url, it proves itself on the suite's own
 * endpoints, started with settings it is not told: /sync-test with FastAPI's 40 and with 7, a bounded queue,
 * /db-test (node-postgres' 10), /blocking-loop-test (1), /asyncio-test (none), /hash-test (CPU, in steps of libuv's
 * 4 threads), server.ts --workers 2, the blog's FastAPI app (40, and 100) where a Python has it, and /sync-test (7) and
 * /hash-test on Bun and on Deno where they run (the hashes on their own pools: Bun's of the cores, Deno's of 32).
 *
 * Run:    npx tsx scripts/find-pool.ts --url 'http://127.0.0.1:8000/sync-test/{id}'
 *         npx tsx scripts/find-pool.ts --url 'https://127.0.0.1:8443/orders/{id}' --insecure \
 *           --method POST --header 'Content-Type: application/json' --body '{"item": 1}'
 *         npx tsx scripts/find-pool.ts           # the self-check: the suite's endpoints, found = configured
 * Expect: for server.ts's defaults, `… serves 40 requests at once, each for 3.0 s: a pool of 40` after bursts of
 *         11 · D (1, 2, 4, 8, 16, 32 in one wave each, 64 in two, then 40 in one and 41 in two); in the
 *         self-check, found = configured for every pool, and the right kind for the others.
 * Takes:  with --url, at most --budget-s (180 s by default). The self-check: 2.3 min in the committed run
 *         (results/summary.json); --quick checks fewer targets at D = 300 ms, and finds the endpoints that need no
 *         pool of their own on a server another target had. Writes results/find-pool.json, a staircase and each
 *         burst's timeline by wave.
 */
import { isIP } from 'node:net';
import { defineExperiment } from './lib/experiment.ts';
import { searchForPool, type Step } from './lib/find-pool/search.ts';
import { judge, matchesConfigured, modelMs, type Finding } from './lib/find-pool/verdict.ts';
import { toMeasurement, type Staircase } from './lib/results/types.ts';
import type { RunningServer, ServerOptions } from './lib/processes/start-server.ts';
import { findRuntime } from './lib/processes/runtimes.ts';
import type { Runtime } from '../server/runtime.ts';
import { availableParallelism } from 'node:os';
import { startPostgres } from './lib/processes/postgres.ts';
import { findFastApiPython, startFastApi } from './lib/processes/fastapi.ts';
import { calibrate } from './lib/measure/calibrate.ts';
import { waitUntil } from './lib/core/wait-until.ts';
import { cpuBudget } from './lib/core/cpu-budget.ts';
import { UserError } from './lib/core/outcomes.ts';
import { duration, formatTable, ms } from './lib/view/table.ts';
import { hashSync } from '../server/pool-tasks.js';

/** What find-pool adds to its results: one finding per target, and the staircase of each. */
export interface FindPoolResults {
  findings: Finding[];
}

const experiment = defineExperiment({
  about:
    "Finds how many requests an endpoint serves at once (P), for how long (D), and what kind of limit it is, from bursts alone. Without --url, a self-check on the suite's own endpoints.",
  notApplicable: {
    repeat: 'it chooses its bursts itself',
    client: 'it times each request from its connect, with its own client',
  },
  numbers: {
    maxRequests: { help: 'the most requests in one burst', default: 256, min: 2, max: 10_000 },
    budgetS: { help: 'the most time for one target, bursts included, s', default: 180, min: 1, max: 86_400 },
    delayMs: {
      help: "the self-check: the servers' delay, ms (not told to the finder)",
      default: 1000,
      // Not shorter: a burst's earliest answer comes tens of ms late whatever D is (the async endpoint's 256 are taken
      // in over up to 70 ms, 1.23 · D here under a load of 3), and at 200 ms the async endpoint was read as CPU work
      // (its earliest answer at 1.33 · D, its totals off the one wave by 0.22) and the queue's moved out to 1.30 · D.
      quick: 300,
      min: 10,
      max: 600_000,
    },
  },
  texts: {
    url: { help: 'the endpoint; {id} is replaced by a different integer in each request (none: the self-check)', value: 'URL' },
    method: { help: 'the request method (default GET)', value: 'METHOD' },
    body: { help: 'the request body, sent with every request', value: 'TEXT' },
    workerHeader: { help: 'the response header that names the process that answered (default X-Worker)', value: 'NAME' },
  },
  repeated: { header: { help: "a request header, 'Name: value'", value: "'NAME: VALUE'" } },
  switches: {
    insecure: { help: 'https:// only: accept a certificate that no authority signed' },
    allowRemote: { help: 'fire at a host that is not this machine (be sure it is yours to load)' },
  },
}).withResults<FindPoolResults>();
const { flags } = experiment;
const findings: Finding[] = [];
type Configured = NonNullable<Finding['configured']>;
/** A self-check target: its name, its path on the server, and what the server was configured with for it. */
type Target = [name: string, path: string, configured: (server: RunningServer) => Promise<Configured> | Configured];
const staircases: Staircase[] = [];

/** One target: search, judge, print the sentence and the table, record every burst with the model's figure. */
async function find(name: string, url: string, configured?: Finding['configured']): Promise<Finding> {
  experiment.say(`\n${name}: ${url}`);
  const search = await searchForPool({
    url,
    request: { method: flags.method ?? 'GET', headers: flags.header, ...(flags.body !== undefined ? { body: flags.body } : {}) },
    insecure: flags.insecure,
    workerHeader: flags.workerHeader ?? 'X-Worker',
    maxRequests: flags.maxRequests,
    budgetMs: flags.budgetS * 1000,
    onPlan: (plan) => experiment.say(`  plan: ${plan}`),
    onNote: (note) => experiment.say(`  note: ${note}`),
    onStep: (step) =>
      experiment.say(`  N = ${step.requests}${step.purpose === 'doubling' ? '' : ` (${step.purpose})`}: ${stepText(step)}`),
  });
  const finding = { ...judge(search, url, flags.budgetS * 1000), ...(configured ? { configured } : {}) };
  findings.push(finding);
  experiment.say(`\n${finding.sentence}${finding.hint ? `\nHint: ${finding.hint}` : ''}`);
  const path = new URL(url.replaceAll('{id}', '0')).pathname.replace(/\/0(?=\/|$)/, '/{id}');
  // One timeline per target: the burst that revealed P (else the largest one answered in full), coloured by wave.
  const full = search.steps.filter((s) => s.ok === s.requests);
  const drawn = search.revealed?.step ?? full.reduce((a, b) => (b.requests > a.requests ? b : a), full[0]!);
  const labels = new Set<string>();
  const rows = search.steps.map((step) => {
    const predictedMs = step.purpose === 'refusals?' ? null : modelMs(finding, step.requests - step.refused);
    let label = `${name} N=${step.requests}`;
    for (let again = 2; labels.has(label); again++) label = `${name} N=${step.requests} #${again}`;
    labels.add(label);
    // Refusals, hang-ups and failures are what the finder reads, not failures of the run: it says what they were.
    experiment.record({
      ...toMeasurement(
        {
          label,
          endpoint: path,
          poolSize: finding.poolSize,
          delayMs: finding.delayMs,
          predictedMs,
        },
        step.burst,
        {
          waves: step.waves,
          ...(Object.keys(step.perWorker).length > 1 ? { workers: Object.keys(step.perWorker).length } : {}),
          ...(step === drawn ? {} : { timeline: false as const }),
        },
      ),
      errorsExpected: true,
    });
    return [
      step.requests,
      step.purpose,
      ms(step.burst.totalMs),
      ms(predictedMs),
      wavesText(step),
      step.ok,
      step.refused,
      step.purpose === 'refusals?' ? `${step.failed} hung up` : step.failed,
      ms(step.slowestConnectMs),
    ];
  });
  if (!flags.quiet) {
    console.log(
      `\n${formatTable(['N', 'why', 'total ms', 'model ms', 'waves', 'ok', 'refused', 'failed', 'slowest connect ms'], rows)}`,
    );
    console.log(
      `\nD = ${duration(finding.delayMs)} (one request alone); ${finding.connections}; ${duration(finding.elapsedMs)} of bursts.` +
        (finding.littlesLawPoolSize
          ? `\nLittle's law, as a cross-check: completions per second × D = ${finding.littlesLawPoolSize.toFixed(1)} in service at once.`
          : ''),
    );
  }
  // The staircase: bursts answered in full (a hung-up probe's total is when it hung up, not a total).
  const largest = Math.max(...full.map((s) => s.requests));
  staircases.push({
    name,
    title: `find-pool · ${name} · ${finding.kind}${finding.poolSize ? `, P = ${finding.poolSize}` : ''}, D = ${duration(finding.delayMs)}`,
    points: full.map((s) => ({ requests: s.requests, totalMs: s.burst.totalMs })),
    model: Array.from({ length: largest }, (_, i) => i + 1).flatMap((requests) => {
      const predictedMs = modelMs(finding, requests);
      return predictedMs === null ? [] : [{ requests, predictedMs }];
    }),
  });
  return finding;
}

/** A burst's waves as the table prints them: the pool's, and the answers the server took late beside them. */
function wavesText(step: Step): string {
  if (step.poolWaves.length === 0) return '–';
  return `${step.poolWaves.join(', ')}${step.late > 0 ? ` +${step.late} late` : ''}`;
}

/** One line per burst as it ends: its waves, its first answer, its total (the refusal probe: what it was told). */
function stepText(step: Step): string {
  if (step.purpose === 'refusals?') {
    const refused = step.refused ? `${step.refused} refused (${Object.keys(step.refusedKinds).join(', ')})` : 'none refused';
    return `hung up after ${duration(step.burst.totalMs)}, before a first answer could come: ${refused}, the other ${step.requests - step.refused} taken`;
  }
  if (step.ok === 0)
    return `no 2xx answer: ${[...Object.entries(step.refusedKinds), ...Object.entries(step.failedKinds)].map(([k, n]) => `${n} × ${k}`).join(', ')}`;
  const count = step.poolWaves.length === 1 ? 'one wave' : `${step.poolWaves.length} waves (${step.poolWaves.join(', ')})`;
  const waves = step.late > 0 ? `${count} from each request's own start, ${step.late} taken late` : count;
  const trouble = [step.refused ? `${step.refused} refused` : '', step.failed ? `${step.failed} failed` : '']
    .filter(Boolean)
    .join(', ');
  return `${waves}, the first after ${duration(step.firstMs ?? 0)}, all in ${duration(step.burst.totalMs)}${trouble ? `; ${trouble}` : ''}`;
}

if (flags.url) {
  // 1. An endpoint of the user's: checked, then searched.
  await find('target', checkedUrl(flags.url));
} else {
  // 1. The self-check: the suite's own endpoints, each started with settings the finder is not told.
  await selfCheck();
}

// 2. Every burst with the model's figure for what was concluded, each target's staircase, the findings.
const mismatches = findings.filter((f) => f.configured && !matchesConfigured(f));
for (const f of mismatches)
  experiment.fail(
    `${f.target}: found ${f.kind} ${f.poolSize ?? ''}, configured ${f.configured!.kind} ${f.configured!.poolSize ?? ''}`.trim(),
  );
await experiment.finish({ findings, staircases, params: { selfCheck: !flags.url } });

/** An http(s) URL of this machine (or --allow-remote), or one sentence. */
function checkedUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.replaceAll('{id}', '0'));
  } catch {
    throw new UserError(
      `find-pool: --url must be an http:// or https:// address such as 'http://127.0.0.1:8000/sync-test/{id}', got "${raw}".`,
      2,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError(`find-pool: --url must be an http:// or https:// address, got ${url.protocol}//.`, 2);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
  if (!loopback && !flags.allowRemote) {
    throw new UserError(
      `find-pool: ${host} is not this machine; a burst of up to ${flags.maxRequests} requests is a load test, so fire at it only if it is yours: add --allow-remote.`,
      2,
    );
  }
  return raw;
}

async function selfCheck(): Promise<void> {
  const d = flags.delayMs;
  const { iterations } = calibrate(flags.quick ? 100 : 200, hashSync, 10_000);
  /**
   * server.ts started with `options`, and the targets found on it one after another, each once the server is idle
   * again; what each was configured with is read from the settings the server then runs with.
   */
  const on = (options: ServerOptions, targets: Target[], runtime?: Runtime) =>
    experiment.withServer(
      async () => experiment.watch(await experiment.startServer(options, { runtime })),
      async (server) => {
        for (const [name, path, configured] of targets) {
          await untilIdle(server);
          await find(name, `${server.url}${path}`, await configured(server));
        }
      },
    );
  /** A pool of tinypool threads, and the edge of its queue where a burst allowed could reach it. */
  const threads =
    (note: string) =>
    (server: RunningServer): Configured => {
      const { poolSize, queueLimit } = server.settings;
      const edge = poolSize + queueLimit;
      return { kind: 'pool', poolSize, note, ...(edge <= flags.maxRequests ? { refusedBeyond: edge } : {}) };
    };
  /** Async hashes on the runtime's hidden pool (libuv's threadpool on Node), as its /stats sizes it. */
  const hashes = async (server: RunningServer): Promise<Configured> => {
    const { name, maxThreads: p } = (await server.stats()).hiddenPool;
    const cores = availableParallelism();
    // Under a CPU quota of one core's worth or less (a container's, a CI runner's), the hashes run one request's worth
    // at a time whatever the threads: CPU work, in steps of the threads where they end together, or from outside a
    // pool of 1 (under half this machine's CPU the self-check found each of these from run to run, and a pool of 1
    // was a MISMATCH while the 2 cores availableParallelism counts were expected).
    const budget = cpuBudget();
    if (budget <= 1)
      return {
        kind: 'cpu',
        poolSize: null,
        oneAtATime: true,
        note: `async pbkdf2 on ${name}, ${p} threads, on a CPU quota of ${budget} core here: CPU work, or one at a time a pool of 1`,
      };
    return p <= cores
      ? { kind: 'cpu', poolSize: p, note: `async pbkdf2 on ${name}, ${p} threads, a core each here: a pool of ${p}` }
      : {
          kind: 'cpu',
          poolSize: null,
          note: `async pbkdf2 on ${name}, ${p} threads, which share this machine's ${cores} cores (steps of them where they show)`,
        };
  };
  const queue: Target = [
    'queue',
    '/sync-test/{id}',
    (server) => {
      const { poolSize, queueLimit } = server.settings;
      return threads(`--pool ${poolSize} --queue ${queueLimit}: beyond ${poolSize + queueLimit} at once, 503`)(server);
    },
  ];
  const loop: Target = [
    'loop-1',
    '/blocking-loop-test/{id}',
    (server) => ({ kind: 'pool', poolSize: server.settings.workers, note: 'the event loop itself, blocked' }),
  ];
  const timers: Target = [
    'async',
    '/asyncio-test/{id}',
    () => ({ kind: 'none', poolSize: null, note: 'awaited timers: nothing limits them' }),
  ];
  const hash: Target = ['hash', '/hash-test/{id}', hashes];

  if (!flags.quick)
    await on({ poolSize: 40, delayMs: d }, [['sync-40', '/sync-test/{id}', threads("tinypool, --pool 40: FastAPI's number")]]);
  await on({ poolSize: 7, delayMs: d }, [['sync-7', '/sync-test/{id}', threads('tinypool, --pool 7')]]);
  const queueServer = { poolSize: 4, delayMs: d, queueLimit: 10 };
  if (flags.quick) {
    // The timers, the hashes and the loop need no pool of their own: in --quick they are found on the queue's server,
    // after it, which saves three starts. The loop last: what its hung-up burst leaves blocks the event loop, and
    // /stats cannot count requests the blocked loop has not read yet.
    await on({ ...queueServer, hashIterations: iterations }, [queue, timers, hash, loop]);
  } else {
    await on(queueServer, [queue]);
    await on({ poolSize: 1, delayMs: d }, [loop]);
    await on({ poolSize: 1, delayMs: d }, [timers]);
    await on({ poolSize: 1, delayMs: d, hashIterations: iterations }, [hash]);
  }
  const perWorker = flags.quick ? 5 : 40;
  await on({ poolSize: perWorker, delayMs: d, workers: 2 }, [
    [
      'workers-2',
      '/sync-test/{id}',
      (server) => {
        const { workers, poolSize } = server.settings;
        return {
          kind: 'uneven',
          poolSize: workers * poolSize,
          note: `--workers ${workers} --pool ${poolSize}: ${workers} pools, and node:cluster deals the connections`,
        };
      },
    ],
  ]);

  // The same pool and the same hashes on every other runtime that runs here: tinypool's threads are the pool whatever
  // runs server.ts; the hashes run on that runtime's own hidden pool.
  for (const runtime of ['bun', 'deno'] as const) {
    const found = findRuntime(runtime);
    if ('missing' in found) {
      experiment.say(`\n${runtime} skipped: ${found.missing}`);
      continue;
    }
    const at = `on ${runtime} ${found.version}`;
    const sync: Target = [`sync-7-${runtime}`, '/sync-test/{id}', threads(`tinypool, --pool 7, ${at}`)];
    const hashOn: Target = [
      `hash-${runtime}`,
      '/hash-test/{id}',
      async (server) => {
        const configured = await hashes(server);
        return { ...configured, note: `${configured.note}, ${at}` };
      },
    ];
    // In --quick both on one server, the hashes first: the tasks a hung-up burst cancels have their threads replaced,
    // which /stats counts as alive before they are ready, while the hashes a hung-up burst leaves are requests in flight.
    if (flags.quick) await on({ poolSize: 7, delayMs: d, hashIterations: iterations }, [hashOn, sync], runtime);
    else {
      await on({ poolSize: 7, delayMs: d }, [sync], runtime);
      await on({ poolSize: 1, delayMs: d, hashIterations: iterations }, [hashOn], runtime);
    }
  }

  const started = await startPostgres();
  if ('unavailable' in started) experiment.say(`\ndb-10 skipped: ${started.unavailable}`);
  else {
    await on({ poolSize: 1, delayMs: d, databaseUrl: started.url }, [
      [
        'db-10',
        '/db-test/{id}',
        async (server) => ({
          kind: 'pool',
          poolSize: (await server.stats()).database!.poolSize,
          note: "node-postgres' default pg.Pool",
        }),
      ],
    ]);
    await started.stop();
  }

  const python = await findFastApiPython();
  if ('missing' in python) experiment.say(`\nthe blog's FastAPI app skipped: ${python.missing}`);
  else {
    for (const limit of flags.quick ? [40] : [40, 100]) {
      await experiment.withServer(
        async () =>
          experiment.watch(
            await startFastApi({ python: python.python, delayMs: d, ...(limit === 40 ? {} : { threadLimit: limit }) }),
          ),
        (server) =>
          find(`fastapi-${limit}`, `${server.url}/sync-test/{id}`, {
            kind: 'pool',
            poolSize: limit,
            note: limit === 40 ? "anyio's default CapacityLimiter(40)" : "anyio's limiter raised to 100",
          }),
      );
    }
  }

  experiment.say(`\nFOUND FROM THE OUTSIDE, BESIDE HOW EACH SERVER WAS STARTED\n`);
  experiment.say(
    formatTable(
      ['target', 'configured', 'found', 'P found', 'D found', 'refused beyond', 'bursts took', ''],
      findings.map((f) => [
        f.target,
        f.configured?.note ?? '–',
        f.kind,
        poolSizeText(f),
        duration(f.delayMs),
        f.refusedBeyond ?? '–',
        duration(f.elapsedMs),
        matchesConfigured(f) ? 'as configured' : 'MISMATCH',
      ]),
    ),
  );
}

/**
 * Until nothing the last target left is running on the server: the requests of a hung-up burst that it does not cancel
 * (hashes; a cancelled pool task ends at once), so the next target's first request does not wait behind them.
 */
async function untilIdle(server: RunningServer): Promise<void> {
  await waitUntil(
    async () => {
      const stats = await server.stats();
      return stats.inFlight.now === 0 && stats.activeTasks === 0 && stats.queuedTasks === 0;
    },
    'the server to finish what the previous target left running',
    flags.budgetS * 1000,
  );
}

/** P as the table prints it: exact, a range (one number where both ends agree), or none. */
function poolSizeText(f: Finding): string {
  if (f.poolSize !== null) return String(f.poolSize);
  if (!f.poolSizeRange) return '–';
  const [low, high] = f.poolSizeRange;
  return low === high ? String(low) : `${low}–${high ?? '?'}`;
}
