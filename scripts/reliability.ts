/**
 * reliability — the README's reliability claims, measured instead of only tested.
 *
 * What it shows: the server keeps its shape when it is fed junk, hammered, abandoned and interrupted.
 *   1. Bad input: one burst whose requests are odd and malformed paths (the README's "Bad input" table); each
 *      gets its documented status (200, 422, 404, 405, 400, 431), and no query string changes the delay.
 *   2. Overload: 10× the queue at once (P = 20, queue 40): P + queue are served, the rest answered 503 at once,
 *      and the server's memory stays put.
 *   3. Abandoned requests: 100 sync requests whose client hangs up after 500 ms: the queued tasks are removed,
 *      the running ones ended, and the pool is idle a moment later (FastAPI's threads would sleep on). Then every
 *      route the same way, one server with an upstream and a throwaway PostgreSQL: what a hang-up stops (pool tasks,
 *      the database query, the upstream call), what holds nothing anyway (an awaited timer), and what cannot be
 *      stopped (work on the event loop, on libuv's threads), each with how long the server stayed busy after it.
 *   4. Shutdown: SIGTERM in the middle of a burst of 100 sync requests: every request answered or closed, exit 0
 *      after the 2 s grace; a second signal exits at once.
 *
 * Run:    npx tsx scripts/reliability.ts [--quick] [--queue 40] [--overload-pool 20] [--overload-delay-ms 1000]
 *                                        [--requests 100] [--pool 10] [--delay-ms 3000] [--hang-up-after-ms 500]
 * Expect: every bad input answered as documented; P + queue × 200 (60) and the rest × 503 (340), the slowest 503
 *         well under D; the pool idle soon after the hang-up, all 100 cancelled, none completed; of every route,
 *         those a hang-up stops idle long before their work would have ended, the others busy for their work's
 *         length (without PostgreSQL, /db-test's row is left out with the reason); exit 0 after
 *         SIGTERM once the grace (2 s) is over; after a second signal, an exit at once with that signal's code
 *         (130 for SIGINT, 143 for SIGTERM). A status other than the documented one, a pool that does not drain
 *         or a shutdown that does not exit 0 fails the script (after the JSON is written).
 * Takes:  50 s in the committed run (results/summary.json; each part starts its own server); --quick shortens
 *         D to check the shape. Writes results/reliability.json.
 */
import { isDeepStrictEqual } from 'node:util';
import { defineExperiment } from './lib/experiment.ts';
import { UserError } from './lib/core/outcomes.ts';
import type { RunningServer, ServerOptions } from './lib/processes/start-server.ts';
import { fireBurst } from './lib/client/burst.ts';
import { toMeasurement, type ErrorCounts, type Measurement } from './lib/results/types.ts';
import { predictQueuedPool, predictTotalMs } from './lib/model/model.ts';
import { refusalFields } from './lib/measure/measure.ts';
import { intakeMs } from './lib/measure/server-account.ts';
import { formatTable, ms } from './lib/view/table.ts';
import { createProgress } from './lib/view/progress.ts';
import { waitUntil } from './lib/core/wait-until.ts';
import { availableParallelism } from 'node:os';
import { startPostgres } from './lib/processes/postgres.ts';
import { round3 } from '../server/numbers.ts';
import { DEFAULT_SETTINGS } from '../server/settings.ts';

/** What reliability adds to its results: one record per claim. */
export interface ReliabilityResults {
  badInput: { path: string; expected: number; status: number | null; ok: boolean }[];
  overload: {
    requests: number;
    poolSize: number;
    queueLimit: number;
    delayMs: number;
    statusCounts: Record<string, number>;
    /** The model's statuses, or null where it could not say (the burst took longer than D to arrive: `unpredictable`). */
    expected: Record<string, number> | null;
    unpredictable?: string;
    slowest503Ms: number | null;
    rssBeforeBytes: number;
    rssAfterBytes: number;
  };
  abandon: {
    requests: number;
    poolSize: number;
    delayMs: number;
    hangUpAfterMs: number;
    drained: boolean;
    drainMs: number | null;
    boundMs: number;
    cancelled: number;
    completed: number;
  };
  /** Every route abandoned the same way: what a hang-up does to its work, and how long the server stayed busy. */
  abandonEveryRoute: {
    hangUpAfterMs: number;
    routes: AbandonedRoute[];
    /** Routes left out, with the reason (no PostgreSQL here). */
    skipped: { route: string; reason: string }[];
  };
  shutdown: ShutdownOutcome & {
    requests: number;
    poolSize: number;
    delayMs: number;
    graceMs: number;
    secondSignal: ShutdownOutcome;
  };
}

/**
 * stopped: the server ends the work for a client that left (a pool task, a query, an upstream call). holds nothing:
 * an awaited timer runs out by itself, holding no thread. cannot be stopped: work on the event loop or on libuv's
 * threads runs to its end.
 */
type OnHangUp = 'stopped' | 'holds nothing' | 'cannot be stopped';

interface AbandonedRoute {
  route: string;
  /** What its requests hold while they last. */
  holds: string;
  onHangUp: OnHangUp;
  requests: number;
  /** Answered before the client hung up (work shorter than the wait, such as a file read). */
  answered: number;
  /** One request of the route alone, timed just before, ms. */
  oneRequestMs: number;
  /** How many of its requests the server runs at once: its pool's size (the cores' for CPU work), 1 on the loop. */
  atOnce: number;
  /** What the abandoned requests would hold the server for if nothing stopped them: ceil(N / atOnce) · one, ms. */
  unstoppedMs: number;
  /**
   * From the hang-up until /stats answered that no request was in flight and every pool thread and database
   * connection was free, ms (at most: the answer can come a while after, on a busy loop). null: not within
   * unstoppedMs + 10 s.
   */
  busyAfterHangUpMs: number | null;
  /**
   * Where it holds a pool's threads or connections, which the next requests queue for: free before this (half of
   * unstoppedMs, at most 10 s), or the run fails. null elsewhere.
   */
  boundMs: number | null;
}

interface ShutdownOutcome {
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
  exitMs: number;
  statusCounts: Record<string, number>;
  errorCounts: ErrorCounts;
}

const experiment = defineExperiment({
  about: 'Measures the reliability claims: bad input → status, overload → 503, abandoned requests → idle pool, SIGTERM → exit 0.',
  // Each part fires its own burst, shaped for the claim it checks: one burst each, by the raw client.
  notApplicable: {
    repeat: 'each part fires one burst shaped for its claim',
    client: 'each part needs the raw client (hang-ups, exact statuses)',
  },
  numbers: {
    queue: { help: 'overload: the pool queue limit; the burst is 10× this', default: 40, max: 10_000 },
    overloadPool: { help: 'overload: worker threads', default: 20, max: 1024 },
    // Long enough, also in --quick, for a slow machine to take all 400 requests in before the first wave ends.
    overloadDelayMs: { help: 'overload: how long each accepted request blocks, ms', default: 1000, quick: 500, max: 60_000 },
    requests: { help: 'abandon and shutdown: sync requests fired at once', default: 100, max: 10_000 },
    pool: { help: 'abandon and shutdown: worker threads', default: 10, max: 1024 },
    delayMs: { help: 'abandon and shutdown: how long each request blocks, ms', default: 3000, quick: 600, max: 60_000 },
    hangUpAfterMs: { help: 'abandon: the client hangs up on every request after this long, ms', default: 500, max: 60_000 },
    shutdownGraceMs: {
      help: "shutdown: the server's grace period for in-flight requests, ms",
      default: 2000,
      quick: 500,
      min: 0,
      max: 60_000,
    },
  },
}).withResults<ReliabilityResults>();
const { flags } = experiment;
const say = (text: string) => experiment.say(text);
const progress = createProgress('reliability', { quiet: flags.quiet });
const tick = (done: number) => progress.tick(done);
const MB = 2 ** 20;

/**
 * The README's "Bad input → status → body" rows that fit in a request path. The raw-UTF-8 case is written as
 * latin1 characters because the client sends the path as latin1: these two are the bytes of "٣" (U+0663).
 */
const BAD_INPUT: { path: string; expected: number; shown?: string }[] = [
  ...['7', '+5', '-5', '-0', '007', '%31', '9007199254740991', '7?delay_ms=60000'].map((id) => ({
    path: `/sync-test/${id}`,
    expected: 200,
  })),
  ...['abc', '1.5', '1e3', '0x10', '1_000', '--1', '%20', '%D9%A3', '%EF%BC%91', '%F0%9F%98%80', '1%00', '1%2F2', '%ZZ'].map(
    (id) => ({ path: `/sync-test/${id}`, expected: 422 }),
  ),
  ...['9007199254740992', '-9007199254740992', '9'.repeat(4000)].map((id) => ({ path: `/sync-test/${id}`, expected: 422 })),
  ...['/sync-test/', '/sync-test/1/2', '//sync-test/1', '/SYNC-TEST/1', '/nope'].map((path) => ({ path, expected: 404 })),
  { path: '/stats/reset', expected: 405 }, // a GET on a POST route
  { path: 'sync-test/1', expected: 400 }, // a target that is not a path
  { path: '/sync-test/\u00d9\u00a3', expected: 400, shown: '/sync-test/٣ (raw UTF-8)' },
  { path: `/sync-test/${'1'.repeat(20_000)}`, expected: 431 }, // beyond Node's 16 KiB of headers
];
const BAD_INPUT_DELAY_MS = 100;

const shown = (c: { path: string; shown?: string }) =>
  c.shown ?? (c.path.length > 40 ? `${c.path.slice(0, 24)}… (${c.path.length} chars)` : c.path);
const counted = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([status, n]) => `${n} × ${status}`)
    .join(', ') || 'none';

/** Every part's burst is meant to get answers other than 200 (422s, 503s, hang-ups): they are its data. */
const record = (m: Measurement) => experiment.record({ ...m, errorsExpected: true });

// 1. Bad input: one burst, the i-th request the i-th case; the 200s block on a pool big enough for all of them.
const okCases = BAD_INPUT.filter((c) => c.expected === 200).length;
const badInput = await withServer({ poolSize: okCases, delayMs: BAD_INPUT_DELAY_MS }, async (server) => {
  progress.step('bad input', BAD_INPUT.length);
  const burst = await fireBurst({
    baseUrl: server.url,
    path: (i) => BAD_INPUT[i - 1]!.path,
    requests: BAD_INPUT.length,
    timeoutMs: 10_000,
    onRequestDone: tick,
  });
  record(
    toMeasurement(
      { label: 'bad-input', endpoint: '/sync-test', poolSize: okCases, delayMs: BAD_INPUT_DELAY_MS, predictedMs: null },
      burst,
    ),
  );
  const cases = BAD_INPUT.map((c, i) => {
    const status = burst.requests[i]!.status;
    return { path: shown(c), expected: c.expected, status, ok: status === c.expected };
  });
  progress.done(`${cases.filter((c) => c.ok).length} of ${cases.length} as documented`);
  return cases;
});
const mismatched = badInput.filter((c) => !c.ok);
if (mismatched.length > 0)
  experiment.fail(
    `bad input answered otherwise than documented: ${mismatched.map((c) => `${c.path} → ${c.status ?? 'no answer'} (expected ${c.expected})`).join(', ')}`,
  );

// 2. Overload: 10× the queue at once; RSS from /stats before and after. The model says how many are refused, as
//    long as the server takes the whole burst in before the first wave ends (it says so where it did not).
const overloadRequests = 10 * flags.queue;
const overload = await withServer(
  { poolSize: flags.overloadPool, delayMs: flags.overloadDelayMs, queueLimit: flags.queue },
  async (server) => {
    const before = await server.resetStats();
    progress.step(`overload: ${overloadRequests} requests, P ${flags.overloadPool}, queue ${flags.queue}`, overloadRequests);
    const workload = {
      requests: overloadRequests,
      poolSize: flags.overloadPool,
      queueLimit: flags.queue,
      delayMs: flags.overloadDelayMs,
    };
    const burst = await fireBurst({
      baseUrl: server.url,
      path: (i) => `/sync-test/${i}`,
      requests: overloadRequests,
      timeoutMs: predictTotalMs(workload) * 4 + 10_000,
      onRequestDone: tick,
    });
    const after = await server.stats();
    const model = predictQueuedPool(workload, intakeMs(after));
    const m = toMeasurement(
      {
        label: 'overload',
        endpoint: '/sync-test',
        poolSize: flags.overloadPool,
        delayMs: flags.overloadDelayMs,
        predictedMs: model.totalMs,
        server: after,
      },
      burst,
    );
    record({ ...m, ...refusalFields(model) });
    const latencies503 = burst.requests.filter((r) => r.status === 503).map((r) => r.endMs - r.startMs);
    progress.done(counted(m.statusCounts));
    return {
      requests: overloadRequests,
      poolSize: flags.overloadPool,
      queueLimit: flags.queue,
      delayMs: flags.overloadDelayMs,
      statusCounts: m.statusCounts,
      expected: model.refused === null ? null : { '200': model.served, '503': model.refused },
      ...(model.unpredictable ? { unpredictable: model.unpredictable } : {}),
      slowest503Ms: latencies503.length > 0 ? round3(Math.max(...latencies503)) : null,
      rssBeforeBytes: before.rssBytes,
      rssAfterBytes: after.rssBytes,
    };
  },
);
if (overload.expected && !isDeepStrictEqual(overload.statusCounts, overload.expected)) {
  experiment.fail(`overload answered ${counted(overload.statusCounts)}, the model says ${counted(overload.expected)}`);
}

// 3. Abandoned requests: the burst's deadline destroys every socket (the client hangs up); then /stats every ~10 ms until idle.
const abandon = await withServer({ poolSize: flags.pool, delayMs: flags.delayMs }, async (server) => {
  progress.step(`abandon: ${flags.requests} requests, hang up after ${flags.hangUpAfterMs} ms`, flags.requests);
  const burst = await fireBurst({
    baseUrl: server.url,
    path: (i) => `/sync-test/${i}`,
    requests: flags.requests,
    timeoutMs: flags.hangUpAfterMs,
    onRequestDone: tick,
  });
  const hungUpAt = burst.startedAt + burst.totalMs;
  // Bounded well below ceil(N / P) · D: a pool that only drains by sleeping its tasks out counts as not drained.
  const boundMs = Math.min(
    10_000,
    predictTotalMs({ requests: flags.requests, poolSize: flags.pool, delayMs: flags.delayMs }) / 2,
  );
  const idle = await waitUntil(
    async () => {
      const stats = await server.stats();
      return stats.activeTasks === 0 && stats.queuedTasks === 0 && { stats, at: performance.now() };
    },
    'the pool to be idle',
    boundMs,
    10,
  ).catch(() => null);
  const stats = idle?.stats ?? (await server.stats());
  record(
    toMeasurement(
      {
        label: 'abandon',
        endpoint: '/sync-test',
        poolSize: flags.pool,
        delayMs: flags.delayMs,
        predictedMs: null,
        server: stats,
      },
      burst,
    ),
  );
  const drainMs = idle ? round3(idle.at - hungUpAt) : null;
  progress.done(drainMs === null ? 'the pool did not drain' : `pool idle ${drainMs.toFixed(0)} ms after the hang-up`);
  return {
    requests: flags.requests,
    poolSize: flags.pool,
    delayMs: flags.delayMs,
    hangUpAfterMs: flags.hangUpAfterMs,
    drained: idle !== null,
    drainMs,
    boundMs,
    cancelled: stats.cancelled,
    completed: stats.completed,
  };
});
if (!abandon.drained) experiment.fail(`the pool was still busy ${abandon.boundMs} ms after the clients hung up`);

// 3b. Every route abandoned the same way, one after another on one server with an upstream and a PostgreSQL.
const abandonEveryRoute = await abandonEachRoute();
for (const r of abandonEveryRoute.routes) {
  if (r.boundMs !== null && (r.busyAfterHangUpMs === null || r.busyAfterHangUpMs > r.boundMs))
    experiment.fail(
      `${r.route}: its ${r.holds} still busy ${r.boundMs} ms after its clients hung up, though a hang-up frees them`,
    );
}

// 4. Shutdown: a signal once the burst fills the pool and its queue; time until the process has exited.
const sigterm = await shutdownDuringBurst('shutdown-sigterm', (server) => server.stop());
const secondSignal = await shutdownDuringBurst('shutdown-second-signal', (server) => {
  // Two different signals, so the kernel cannot merge them into one.
  process.kill(server.pid, 'SIGINT');
  process.kill(server.pid, 'SIGTERM');
});
const shutdown = {
  requests: flags.requests,
  poolSize: flags.pool,
  delayMs: flags.delayMs,
  graceMs: flags.shutdownGraceMs,
  ...sigterm,
  secondSignal,
};
if (sigterm.exitCode !== 0) experiment.fail(`SIGTERM ended the server with exit code ${sigterm.exitCode}, not 0`);
// The exit code is the second signal's own (143 for SIGTERM, 130 for SIGINT, whichever the server handled second).
if (![130, 143].includes(secondSignal.exitCode ?? 0))
  experiment.fail(`a second signal ended the server with exit code ${secondSignal.exitCode}, not 143 or 130`);

// 5. One table of the figures, then the JSON (also when a claim failed: it shows which).
const matched = badInput.filter((c) => c.ok).length;
say(`\nRELIABILITY\n`);
say(
  formatTable(
    ['claim', 'setting', 'measured'],
    [
      ['bad input → documented status', `${badInput.length} paths, one burst`, `${matched} of ${badInput.length} as documented`],
      [
        'overload → 503 at once',
        `N ${overload.requests}, P ${overload.poolSize}, queue ${overload.queueLimit}, D ${overload.delayMs} ms`,
        `${counted(overload.statusCounts)}; slowest 503 ${ms(overload.slowest503Ms)} ms; ` +
          `RSS ${(overload.rssBeforeBytes / MB).toFixed(0)} → ${(overload.rssAfterBytes / MB).toFixed(0)} MB`,
      ],
      [
        'abandoned → pool idle',
        `N ${abandon.requests}, P ${abandon.poolSize}, D ${abandon.delayMs} ms, hang up at ${abandon.hangUpAfterMs} ms`,
        `${abandon.drained ? `idle ${ms(abandon.drainMs)} ms after the hang-up` : 'not drained'}; cancelled ${abandon.cancelled}, completed ${abandon.completed}`,
      ],
      [
        'SIGTERM → exit 0',
        `N ${shutdown.requests}, P ${shutdown.poolSize}, D ${shutdown.delayMs} ms`,
        `exit ${sigterm.exitCode} after ${ms(sigterm.exitMs)} ms; ${counted(sigterm.statusCounts)}`,
      ],
      ['second signal → at once', 'SIGINT then SIGTERM', `exit ${secondSignal.exitCode} after ${ms(secondSignal.exitMs)} ms`],
    ],
  ),
);
say(`\nEVERY ROUTE ABANDONED (hang up after ${abandonEveryRoute.hangUpAfterMs} ms)\n`);
say(
  formatTable(
    ['route', 'holds', 'a hang-up', 'N', 'at once', 'its work, unstopped', 'busy after the hang-up'],
    abandonEveryRoute.routes.map((r) => [
      r.route,
      r.holds,
      r.onHangUp,
      String(r.requests),
      String(r.atOnce),
      `${ms(r.unstoppedMs)} ms`,
      r.busyAfterHangUpMs === null
        ? 'still busy'
        : `${ms(r.busyAfterHangUpMs)} ms${r.answered > 0 ? ` (${r.answered} answered before)` : ''}`,
    ]),
  ),
);
for (const s of abandonEveryRoute.skipped) say(`${s.route}: left out (${s.reason})`);
await experiment.finish({ badInput, overload, abandon, abandonEveryRoute, shutdown });

/**
 * Starts a server for one part and stops it afterwards, whatever happens. Not watched for dying: the shutdown
 * parts end their server on purpose.
 */
function withServer<T>(options: ServerOptions, run: (server: RunningServer) => Promise<T>): Promise<T> {
  return experiment.withServer(() => experiment.startServer(options), run);
}

/**
 * Each route: one request alone (its own time), then `requests` whose client hangs up after --hang-up-after-ms, then
 * /stats every ~10 ms until no request is in flight and every pool thread and connection is free. Work on the loop
 * and on libuv's threads runs to its end whatever happens, so those routes get fewer requests: enough to be busy at
 * the hang-up, not a hundred times their work.
 */
async function abandonEachRoute(): Promise<ReliabilityResults['abandonEveryRoute']> {
  const started = await startPostgres();
  const skipped = [
    ...('unavailable' in started ? [{ route: '/db-test', reason: started.unavailable }] : []),
    { route: '/fifo-test', reason: 'it needs a folder of FIFOs and a writer to let them go: scripts/runtimes.ts' },
  ];
  const upstream = await experiment.startServer({ poolSize: 1, delayMs: flags.delayMs });
  try {
    const settings: ServerOptions = {
      poolSize: flags.pool,
      delayMs: flags.delayMs,
      // --quick checks the shape: a fifth of the server's CPU work per request (about 40 ms on this project's test
      // machine), so the routes whose work cannot be stopped keep the run in seconds.
      ...(flags.quick
        ? { cpuIterations: DEFAULT_SETTINGS.cpuIterations / 5, hashIterations: DEFAULT_SETTINGS.hashIterations / 5 }
        : {}),
      upstreamUrl: upstream.url,
      ...('unavailable' in started ? {} : { databaseUrl: started.url, dbPoolSize: flags.pool }),
    };
    return await withServer(settings, async (server) => {
      const cores = availableParallelism();
      const libuvThreads = (await server.stats()).hiddenPool.maxThreads;
      const n = flags.requests;
      const threads = 'pool threads';
      /** Twice the waves that would end by the hang-up, `atOnce` at a time (at least two), given one request's time. */
      const pastHangUp = (atOnce: number) => (oneMs: number) =>
        atOnce * Math.max(2, Math.ceil((2 * flags.hangUpAfterMs) / Math.max(oneMs, 1)));
      const routes: {
        route: string;
        holds: string;
        onHangUp: OnHangUp;
        requests: number | ((oneRequestMs: number) => number);
        atOnce: number;
      }[] = [
        { route: '/sync-test', holds: threads, onHangUp: 'stopped', requests: n, atOnce: flags.pool },
        { route: '/cpu-pool-test', holds: threads, onHangUp: 'stopped', requests: n, atOnce: Math.min(flags.pool, cores) },
        { route: '/hash-pool-test', holds: threads, onHangUp: 'stopped', requests: n, atOnce: Math.min(flags.pool, cores) },
        ...('unavailable' in started
          ? []
          : [
              { route: '/db-test', holds: 'database connections', onHangUp: 'stopped' as const, requests: n, atOnce: flags.pool },
            ]),
        { route: '/upstream-test', holds: 'connections to the upstream', onHangUp: 'stopped', requests: n, atOnce: n },
        { route: '/asyncio-test', holds: 'a timer each', onHangUp: 'holds nothing', requests: n, atOnce: n },
        // Work that cannot be stopped: enough waves of it to be busy past the hang-up, whatever one request takes here.
        {
          route: '/blocking-loop-test',
          holds: 'the event loop',
          onHangUp: 'cannot be stopped',
          requests: pastHangUp(1),
          atOnce: 1,
        },
        { route: '/cpu-loop-test', holds: 'the event loop', onHangUp: 'cannot be stopped', requests: pastHangUp(1), atOnce: 1 },
        {
          route: '/hash-test',
          holds: "libuv's threads",
          onHangUp: 'cannot be stopped',
          requests: pastHangUp(libuvThreads),
          atOnce: Math.min(libuvThreads, cores),
        },
        { route: '/file-test', holds: "libuv's threads", onHangUp: 'cannot be stopped', requests: n, atOnce: libuvThreads },
      ];
      const results: AbandonedRoute[] = [];
      for (const { route, holds, onHangUp, requests: planned, atOnce } of routes) {
        const one = await fireBurst({ baseUrl: server.url, path: (i) => `${route}/${i}`, requests: 1, timeoutMs: 60_000 });
        const oneRequestMs = round3(one.totalMs);
        const requests = typeof planned === 'number' ? planned : planned(oneRequestMs);
        progress.step(`abandon ${route}: ${requests} requests`, requests);
        const unstoppedMs = round3(Math.ceil(requests / atOnce) * oneRequestMs);
        const burst = await fireBurst({
          baseUrl: server.url,
          path: (i) => `${route}/${i}`,
          requests,
          timeoutMs: flags.hangUpAfterMs,
          onRequestDone: tick,
        });
        const hungUpAt = burst.startedAt + flags.hangUpAfterMs;
        // Threads and connections the next requests queue for must be free well before the work would have ended;
        // everything is waited for as long as its work takes, and a little more.
        const boundMs = holds === threads || holds === 'database connections' ? Math.min(10_000, unstoppedMs / 2) : null;
        const idle = await waitUntil(
          async () => {
            const s = await server.stats();
            const dbFree = s.database === null || (s.database.waiting === 0 && s.database.idle === s.database.open);
            return s.inFlight.now === 0 && s.activeTasks === 0 && s.queuedTasks === 0 && dbFree && performance.now();
          },
          `${route} to be idle`,
          unstoppedMs + 10_000,
          10,
        ).catch(() => null);
        const m = toMeasurement(
          { label: `abandon-${route.slice(1)}`, endpoint: route, poolSize: atOnce, delayMs: flags.delayMs, predictedMs: null },
          burst,
        );
        record({ ...m, timeline: false }); // a hang-up's bars all end at once: the table says more
        const busyAfterHangUpMs = idle === null ? null : round3(Math.max(0, idle - hungUpAt));
        progress.done(busyAfterHangUpMs === null ? 'still busy' : `idle ${busyAfterHangUpMs.toFixed(0)} ms after the hang-up`);
        results.push({
          route,
          holds,
          onHangUp,
          requests,
          answered: m.ok,
          oneRequestMs,
          atOnce,
          unstoppedMs,
          busyAfterHangUpMs,
          boundMs,
        });
      }
      return { hangUpAfterMs: flags.hangUpAfterMs, routes: results, skipped };
    });
  } finally {
    await upstream.stop();
    if (!('unavailable' in started)) await started.stop();
  }
}

/** A burst that fills the pool and its queue, `signal` sent to the server meanwhile; how and when it exited. */
async function shutdownDuringBurst(label: string, signal: (server: RunningServer) => unknown): Promise<ShutdownOutcome> {
  return withServer({ poolSize: flags.pool, delayMs: flags.delayMs, shutdownGraceMs: flags.shutdownGraceMs }, async (server) => {
    progress.step(`${label}: ${flags.requests} requests`, flags.requests);
    const burst = fireBurst({
      baseUrl: server.url,
      path: (i) => `/sync-test/${i}`,
      requests: flags.requests,
      timeoutMs: 30_000,
      onRequestDone: tick,
    });
    await waitUntil(
      async () => {
        const stats = await server.stats();
        return (
          stats.activeTasks === Math.min(flags.pool, flags.requests) &&
          stats.queuedTasks === Math.max(0, flags.requests - flags.pool)
        );
      },
      'the burst to fill the pool and its queue',
      10_000,
      10,
    ).catch(() => {
      throw new UserError(`reliability: ${label}: the burst did not fill the pool within 10 s.`);
    });
    const sent = performance.now();
    void signal(server);
    const exit = await server.exit;
    const exitMs = round3(performance.now() - sent);
    const result = await burst;
    const m = toMeasurement(
      { label, endpoint: '/sync-test', poolSize: flags.pool, delayMs: flags.delayMs, predictedMs: null },
      result,
    );
    record(m);
    progress.done(`exit ${exit.code ?? exit.signal} after ${exitMs.toFixed(0)} ms`);
    return { exitCode: exit.code, exitSignal: exit.signal, exitMs, statusCounts: m.statusCounts, errorCounts: m.errorCounts };
  });
}
