/**
 * compare-fastapi — the original, side by side: the blog's FastAPI app and ours, fired at by the same client.
 *
 * The blog's own kind of server (reference/fastapi_app.py under uvicorn, one worker) and ours (server.ts), one at a
 * time, in one run.
 *
 * What it shows: both servers answer 100 concurrent requests to the async endpoint in one wave of 3 s and to the
 * sync one in three, as the model ceil(N / P) · D says with P = 40 — FastAPI's 40 being anyio's
 * default CapacityLimiter, ours a tinypool pool sized to match. An extra row raises FastAPI's limit to 100: the
 * sync endpoint then takes ≈3 s, so the 40 is the cause of the 9 s.
 *
 * Run:    npx tsx scripts/compare-fastapi.ts [--requests 100] [--delay-ms 3000] [--raised-limit 100] [--quick]
 *         npx tsx scripts/compare-fastapi.ts --python /usr/bin/python3     # the interpreter that has FastAPI
 * Expect: for both servers, async in one wave of D and sync in ceil(N / 40) waves (3 · D at the defaults); with
 *         FastAPI's limit raised to N or more, sync in one wave. Each total is the median of 3 bursts (--repeat),
 *         with their range. Without a Python that has fastapi and uvicorn: one notice saying what is missing and
 *         how to install it, a results file marked "skipped", exit code 0.
 * Takes:  90 s in the committed run (results/summary.json); --quick shortens D and N to check the shape.
 *         Writes results/compare-fastapi.json.
 */
import { defineExperiment } from './lib/experiment.ts';
import { COMPARE_FASTAPI } from './lib/results/labels.ts';
import type { TargetServer } from './lib/processes/start-server.ts';
import { findFastApiPython, startFastApi, PYTHON_CANDIDATES, HOW_TO_INSTALL, pythonFlag } from './lib/processes/fastapi.ts';
import type { Measurement } from './lib/results/types.ts';
import { formatTable, seconds, totalWithRange } from './lib/view/table.ts';
import { BLOG } from './lib/model/model.ts';

// FastAPI's number: anyio's default CapacityLimiter(40) for `def` endpoints. Our pool is given the same.
const THREAD_LIMIT = 40;

/** What compare-fastapi adds to its results: the versions FastAPI's side ran on. */
export interface CompareFastApiResults {
  fastapi: Record<string, string>;
}

const experiment = defineExperiment({
  about:
    "Runs the blog's FastAPI app (uvicorn, 1 worker) and server.ts one after the other, fires the same bursts at both,\n" +
    "and prints the blog's figures, both measurements and the model side by side.",
  numbers: {
    // --quick keeps N = 100: with fewer than 41 requests FastAPI's 40 threads would serve them in one wave.
    requests: { help: 'requests fired at once, per endpoint', default: 100 },
    delayMs: { help: 'how long each request waits or blocks, ms', default: 3000, quick: 150, min: 0, max: 600_000 },
    raisedLimit: { help: "FastAPI's thread limit for the extra sync row; 0 = no extra row", default: 100, min: 0, max: 10_000 },
  },
  texts: {
    python: pythonFlag('FastAPI'),
  },
  // The side-by-side table leads the README: a median of three bursts, never one on a shared machine.
  defaultRepeat: 3,
}).withResults<CompareFastApiResults>();
const { flags } = experiment;
const say = (text: string) => experiment.say(text);
const params = { threadLimit: THREAD_LIMIT };

// 1. A Python that can run the app, or a clean skip: run-all must not fail on a machine without Python.
const search = await findFastApiPython(flags.python ? [flags.python] : PYTHON_CANDIDATES);
const found = 'missing' in search ? await experiment.skip(`${search.missing} ${HOW_TO_INSTALL}`, { params }) : search;
say(
  `FastAPI ${found.versions.fastapi}, uvicorn ${found.versions.uvicorn}, anyio ${found.versions.anyio} on Python ${found.versions.python} (${found.python})`,
);

// 2. One server at a time, so neither competes with the other for the two cores; each stopped before the next.
const burst = async (server: TargetServer, label: string, endpoint: string, poolSize: number | null) => {
  await experiment.measure(server, { label, endpoint, poolSize, requests: flags.requests, delayMs: flags.delayMs });
};
const runs: { start: () => Promise<TargetServer>; bursts: (server: TargetServer) => Promise<void> }[] = [
  {
    start: async () => experiment.watch(await startFastApi({ python: found.python, delayMs: flags.delayMs })),
    bursts: async (server) => {
      await burst(server, COMPARE_FASTAPI.fastapiAsync, '/asyncio-test', null);
      await burst(server, COMPARE_FASTAPI.fastapiSync, '/sync-test', THREAD_LIMIT);
    },
  },
  ...(flags.raisedLimit > 0
    ? [
        {
          start: async () =>
            experiment.watch(
              await startFastApi({ python: found.python, delayMs: flags.delayMs, threadLimit: flags.raisedLimit }),
            ),
          bursts: (server: TargetServer) =>
            burst(server, COMPARE_FASTAPI.fastapiSyncRaised(flags.raisedLimit), '/sync-test', flags.raisedLimit),
        },
      ]
    : []),
  {
    start: () => experiment.server({ poolSize: THREAD_LIMIT, delayMs: flags.delayMs }),
    bursts: async (server) => {
      await burst(server, COMPARE_FASTAPI.honoAsync, '/asyncio-test', null);
      await burst(server, COMPARE_FASTAPI.honoSync, '/sync-test', THREAD_LIMIT);
    },
  },
];
for (const run of runs) await experiment.withServer(run.start, run.bursts);

// 3. One table: the blog's published figure, FastAPI and Hono measured here, the model; ratios to the model.
const byLabel = (label: string) => experiment.measurements.find((m) => m.label === label);
const measured = (m: Measurement | undefined) =>
  m ? `${totalWithRange(m)} ms (×${(m.totalMs / m.predictedMs!).toFixed(3)})` : '–';
const blogShape = flags.requests === BLOG.requests && flags.delayMs === BLOG.delayMs;
const blog = (s: number) => (blogShape ? `${s} s` : '–');
const raised = byLabel(COMPARE_FASTAPI.fastapiSyncRaised(flags.raisedLimit));
const rows = [
  [
    'async  /asyncio-test',
    blog(BLOG.asyncSeconds),
    measured(byLabel(COMPARE_FASTAPI.fastapiAsync)),
    measured(byLabel(COMPARE_FASTAPI.honoAsync)),
    seconds(byLabel(COMPARE_FASTAPI.honoAsync)?.predictedMs),
  ],
  [
    `sync   /sync-test, ${THREAD_LIMIT} threads`,
    blog(BLOG.syncSeconds),
    measured(byLabel(COMPARE_FASTAPI.fastapiSync)),
    measured(byLabel(COMPARE_FASTAPI.honoSync)),
    seconds(byLabel(COMPARE_FASTAPI.honoSync)?.predictedMs),
  ],
  ...(raised
    ? [[`sync, FastAPI's limit raised to ${flags.raisedLimit}`, '–', measured(raised), '–', seconds(raised.predictedMs)]]
    : []),
];
const repeats = flags.repeat > 1 ? `, median (min–max) of ${flags.repeat} bursts` : '';
say(`\nTHE ORIGINAL, SIDE BY SIDE — ${flags.requests} concurrent requests, ${flags.delayMs} ms each${repeats}\n`);
say(formatTable(['endpoint', "blog's figure", 'FastAPI here', 'Hono here', 'model'], rows));
say(
  `\n(×r) = measured / model.${blogShape ? '' : ` The blog's figures are for N = ${BLOG.requests}, ${BLOG.delayMs / 1000} s, so they are left out.`}`,
);

// 4. Both servers' measurements, every request included, and what the FastAPI side ran on.
await experiment.finish({ params: { ...params, python: found.python }, fastapi: found.versions });
