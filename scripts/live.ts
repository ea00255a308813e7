/**
 * live — watch it happen: a page that fires a real burst and draws the waves as they arrive, beside the server's
 * own pool.
 *
 * What it shows: press Fire, see 100 requests leave, see 40 of them come back after 3 s, then 40, then 20, while the
 * pool gauge shows 40 busy and 60, then 20, queued. Every scenario is a lesson the suite measures (the blog's async
 * and sync endpoints, the same sleep blocking the event loop, CPU work on the loop and in the pool, the database
 * pool, libuv's threads, K processes), with its own script's defaults. The burst is fired from this process with
 * the suite's own client (a browser opens at most 6 connections per host, which would draw fake waves of 6), and
 * every request's start and end is streamed to the page as it happens (server-sent events), beside the server's
 * pools read from its record of every task (exact: a gauge steps where the bars end) and its /stats, sampled for
 * how late it answers. Replay draws any results/*.json the same way, from its recorded offsets.
 *
 * Run:    npx tsx scripts/live.ts                 # then open the URL it prints
 *         npx tsx scripts/live.ts --port 0 --out /tmp/live    # any free port; Save writes there
 * Link:   http://127.0.0.1:8400/?scenario=sync&requests=100&pool=40&delayMs=3000&fire=1
 * Takes:  until stopped (Ctrl-C stops it and everything it started). run-all skips it.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Hono, type Context } from 'hono';
import { serve } from '@hono/node-server';
import { streamSSE } from 'hono/streaming';
import { startScript } from './lib/main.ts';
import { onStopRequested, requestStop } from './lib/core/stopping.ts';
import { DEFAULT_RESULTS_DIR, readResults, resultsDir, writeResults, whatItShowsIn } from './lib/results/file.ts';
import { writeCharts } from './lib/view/charts.ts';
import type { ResultsFile } from './lib/results/types.ts';
import { BusyError, LiveSession } from './lib/live/session.ts';
import { LIMITS, SCENARIO_TABLE, SCENARIOS, lessonOf, readSettings } from './lib/live/scenarios.ts';
import { onlyThisPage } from './lib/live/page-guard.ts';
import type { LiveEvent, LiveFields } from './lib/live/events.ts';

const flags = startScript({
  about:
    "Serves a page on 127.0.0.1 that fires a real burst at the suite's server and draws every request as it starts and ends, beside the server's own pool; replays any results/*.json the same way. Runs until stopped.",
  numbers: { port: { help: 'the port of the page (0: any free one)', default: 8400, min: 0, max: 65_535 } },
  defaultOut: DEFAULT_RESULTS_DIR,
  notApplicable: {
    repeat: 'each Fire is one burst',
    client: 'the page fires with the raw client, whose every request it can stream',
    quick: 'the page sets each burst, with each scenario’s defaults',
    runtime: 'the page takes it in its address, runtime=bun',
  },
});

const PAGE_DIR = fileURLToPath(new URL('live/', import.meta.url));
const COMMITTED = resultsDir(DEFAULT_RESULTS_DIR);
const OUT = resultsDir(flags.out);
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};
const say = (text: string) => flags.quiet || console.error(text);

const session = new LiveSession();
const app = new Hono();

// Only this page may drive it: any other site the user visits could otherwise fire bursts, start servers and
// PostgreSQL, write into results/, or read them (the guard says how).
app.use(onlyThisPage(() => (server.address() as AddressInfo).port));

// The page's files as they are (its script is ES modules, no build step): index.html at /, every module and style
// sheet by its name, each behind the guard above like every route.
for (const file of await readdir(PAGE_DIR)) {
  const type = TYPES[file.split('.').pop()!];
  if (!type || file.endsWith('.d.ts')) continue;
  const body = await readFile(join(PAGE_DIR, file), 'utf8');
  app.get(file === 'index.html' ? '/' : `/${file}`, (c) =>
    c.body(body, 200, { 'content-type': type, 'cache-control': 'no-store' }),
  );
}

app.get('/favicon.ico', (c) => c.body(null, 204));

/** The scenarios and the settings' ranges: the page builds its controls from these. */
app.get('/api/scenarios', (c) => c.json({ scenarios: SCENARIOS.map((name) => SCENARIO_TABLE[name]), limits: LIMITS }));

/** The model for settings (nominal where the server has not been timed for them yet) and the scenario's lesson in their words, or what is wrong with them. */
app.get('/api/model', (c) => {
  const read = readSettings(c.req.query());
  if ('errors' in read) return c.json({ detail: read.errors }, 422);
  const model = session.model(read.settings);
  return c.json({ settings: read.settings, model, lesson: lessonOf(read.settings, model) });
});

/** Every event from now on, the current burst's so far first. */
app.get('/api/events', (c) =>
  streamSSE(c, async (stream) => {
    const queue: LiveEvent[] = [];
    let wake = () => {};
    let open = true;
    const unsubscribe = session.subscribe((event) => {
      queue.push(event);
      wake();
    });
    stream.onAbort(() => {
      open = false;
      unsubscribe();
      wake();
    });
    while (open) {
      while (queue.length > 0 && open) {
        const event = queue.shift()!;
        await stream.writeSSE({ event: event.type, data: JSON.stringify(event) });
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }),
);

app.post('/api/fire', async (c) => {
  const body = await c.req.json().catch(() => null);
  if (body === null || typeof body !== 'object') return c.json({ detail: 'the body must be the settings, as JSON' }, 400);
  const read = readSettings(body as Record<string, unknown>, 'body');
  if ('errors' in read) return c.json({ detail: read.errors }, 422);
  try {
    return c.json({ id: session.fire(read.settings) }, 202);
  } catch (error) {
    if (error instanceof BusyError) return c.json({ detail: error.message }, 409);
    throw error;
  }
});

/** The script's state and how many bursts it has fired: for tools and tests that drive the page. */
app.get('/api/state', (c) => c.json({ state: session.currentState, bursts: session.fired }));

app.post('/api/stop', (c) => c.json({ stopped: session.stop() }));

/** The last burst, added to <out>/live.json (a results file: report.ts and the other tools read it). */
app.post('/api/save', async (c) => {
  if (session.busy) return c.json({ detail: 'a burst is running: save it when it has ended' }, 409);
  const last = session.last;
  if (!last) return c.json({ detail: 'nothing to save yet: fire a burst first' }, 404);
  const file = join(OUT, 'live.json');
  const earlier = await readResults(file).catch(() => null);
  const measurements = (earlier?.experiment === 'live' ? earlier.measurements : []) as ResultsFile<
    object,
    LiveFields
  >['measurements'];
  let label = last.label;
  for (let again = 2; measurements.some((m) => m.label === label); again++) label = `${last.label} #${again}`;
  const body = {
    experiment: 'live',
    whatItShows: whatItShowsIn(await readFile(fileURLToPath(import.meta.url), 'utf8')),
    params: {},
    measurements: [...measurements, { ...last, label }],
  } as Omit<ResultsFile, 'createdAt' | 'environment'>;
  body.charts = await writeCharts(OUT, body as ResultsFile);
  const written = await writeResults(flags.out, body);
  say(`saved ${label} to ${written}`);
  return c.json({ file: written, label });
});

/** The results files a burst can be replayed from: the --out folder's and the committed ones (each read once per change). */
const listed = new Map<string, { mtimeMs: number; entry: { file: string; experiment: string; labels: string[] } | null }>();
app.get('/api/results', async (c) => {
  const files: { file: string; experiment: string; labels: string[] }[] = [];
  for (const dir of new Set([OUT, COMMITTED])) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.endsWith('.json') && n !== 'summary.json').sort()) {
      if (files.some((f) => f.file === name)) continue;
      const path = join(dir, name);
      const { mtimeMs } = await stat(path);
      let known = listed.get(path);
      if (known?.mtimeMs !== mtimeMs) {
        const results = await readResults(path).catch(() => null);
        const entry = results?.measurements?.length
          ? { file: name, experiment: results.experiment, labels: results.measurements.map((m) => m.label) }
          : null;
        known = { mtimeMs, entry };
        listed.set(path, known);
      }
      if (known.entry) files.push(known.entry);
    }
  }
  return c.json({ files });
});

app.get('/api/results/:file', async (c) => {
  const name = c.req.param('file');
  if (!/^[\w.-]+\.json$/.test(name) || name.includes('..')) return c.json({ detail: 'not a results file name' }, 422);
  for (const dir of [OUT, COMMITTED]) {
    const results = await readResults(join(dir, name)).catch(() => null);
    if (results) return c.json(results);
  }
  return c.json({ detail: `no ${name} in ${flags.out}` }, 404);
});

app.notFound((c) => c.json({ detail: 'Not Found' }, 404));
app.onError((error, c: Context) => c.json({ detail: `Internal Server Error: ${error.message}` }, 500));

const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: flags.port }, (info) => {
  console.log(`live page: http://127.0.0.1:${info.port}/  (Ctrl-C stops it and everything it started)`);
});
server.once('error', (error: NodeJS.ErrnoException) => {
  const why =
    error.code === 'EADDRINUSE' ? `port ${flags.port} is in use; pick another with --port (0: any free one)` : error.message;
  void requestStop({ by: `live.ts: ${why}.`, exitCode: 2 });
});

// Ctrl-C, SIGTERM or a port in use: the page's streams are closed, then the entry stops what the page started.
onStopRequested(async ({ by, exitCode }) => {
  if (exitCode === 2) process.stderr.write(`${by}\n`);
  else say(`\n${by}: stopping the page, the server and anything else it started.`);
  server.close();
  if ('closeAllConnections' in server) server.closeAllConnections(); // the pages' event streams
  await session.close().catch(() => {});
});
