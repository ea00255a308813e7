/**
 * _template — the smallest honest experiment. Copy it under a new name and it runs as its own experiment.
 *
 * What it shows: N requests fired at once at the async endpoint all finish together, in about one delay D:
 * an awaited timer holds no thread, so nothing makes them wait in turn (the model ceil(N / P) · D with no P).
 *
 * Run:    cp scripts/_template.ts scripts/my-experiment.ts && npx tsx scripts/my-experiment.ts [--quick]
 * Expect: one wave: a total of D plus the server's intake and output, a little above the model; 0 errors.
 * Takes:  one burst of D, after the server's start-up. Writes results/<the file's name>.json (this one, as
 *         _template, is skipped by run-all; a copy under a name without the underscore joins it).
 */
import { defineExperiment } from './lib/experiment.ts';

// 1. What it shows and its own flags; --help, --quick, --repeat, --client, --runtime and --out come with every experiment.
const experiment = defineExperiment({
  about: 'Fires N concurrent requests at one endpoint and compares the total with the model.',
  numbers: {
    requests: { help: 'requests fired at once', default: 100, quick: 20 },
    delayMs: { help: 'how long each request waits, ms', default: 1000, quick: 200, min: 0, max: 600_000 },
  },
});
const { flags } = experiment;

// 2. server.ts in a child process (never this one's event loop), pool warm, its ready line seen.
const server = await experiment.server({ delayMs: flags.delayMs });

// 3. One burst. poolSize null: nothing limits how many wait at once, so the model says one wave of D.
await experiment.measure(server, {
  label: 'async',
  endpoint: '/asyncio-test',
  poolSize: null,
  requests: flags.requests,
  delayMs: flags.delayMs,
});

// 4. The table; then the JSON with every request's start and end, and its timeline. The server is stopped.
experiment.printTable(`${experiment.name} · ${flags.requests} requests of ${flags.delayMs} ms`);
await experiment.finish();
