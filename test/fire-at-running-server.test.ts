/**
 * --url: firing at a server someone else started. The script uses it and leaves it running; a server without
 * /stats still gives measurements; an address where nothing answers ends in one sentence.
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, useRunningServer } from '../scripts/lib/processes/start-server.ts';
import { measureBurst } from '../scripts/lib/measure/measure.ts';
import { parseScriptFlags, URL_FLAG } from '../scripts/lib/flags.ts';
import { UserError } from '../scripts/lib/core/outcomes.ts';
import type { ResultsFile } from '../scripts/lib/results/types.ts';
import { waveSizes } from '../scripts/lib/model/waves.ts';
import { ROOT } from './run-script.ts';

function runScript(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/async-vs-sync.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

test('async-vs-sync --url fires at a running server, reads its /stats, and leaves it running', async (t) => {
  const server = await startServer({ poolSize: 4, delayMs: 200 });
  t.after(() => server.stop());
  const out = await mkdtemp(join(tmpdir(), 'url-'));
  t.after(() => rm(out, { recursive: true, force: true }));

  const before = (await server.stats()).completed;
  const run = runScript([
    '--url',
    `${server.url}/ignored/path`,
    '--requests',
    '10',
    '--pool',
    '4',
    '--delay-ms',
    '200',
    '--repeat',
    '1',
    '--out',
    out,
  ]);
  assert.equal(run.status, 0, run.stderr);

  const results = JSON.parse(await readFile(join(out, 'async-vs-sync.json'), 'utf8')) as ResultsFile;
  assert.equal(results.params.url, server.url);
  const sync = results.measurements.find((m) => m.label === 'sync')!;
  assert.equal(sync.ok, 10);
  assert.equal(sync.server?.poolSize, 4, 'the stats came from the running server');
  assert.deepEqual(waveSizes(sync.requests, 200), [4, 4, 2], `ends at ${sync.requests.map((r) => r.endMs)}`);
  // The blocking sleeps ran in that server's pool, and the script did not stop it.
  assert.equal((await server.stats()).completed - before, 10);
  assert.equal(server.exited, null);
  assert.equal((await fetch(`${server.url}/health`)).status, 200);
});

test('a server without /stats (like FastAPI) still gives a measurement, without server stats', async (t) => {
  const foreign = createServer((req, res) => {
    if (req.url?.startsWith('/asyncio-test/')) setTimeout(() => res.end('{"status":"done"}'), 100);
    else res.writeHead(404).end('{"detail":"Not Found"}');
  });
  await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
  t.after(() => foreign.close());
  const target = await useRunningServer(`http://127.0.0.1:${(foreign.address() as { port: number }).port}`, {
    poolSize: 4,
    delayMs: 100,
    queueLimit: 1000,
    workers: 1,
  });
  assert.equal(target.settingsFrom, 'assumed', 'no /stats: the settings are the flags’, said so');
  assert.equal(target.stats, undefined);
  const m = await measureBurst(target, {
    label: 'foreign',
    endpoint: '/asyncio-test',
    poolSize: null,
    requests: 5,
    delayMs: 100,
    warmUp: false,
  });
  assert.equal(m.ok, 5);
  assert.equal(m.server, undefined);
  await target.stop(); // does nothing: not ours
  assert.ok(foreign.listening);
});

test('--url where nothing answers, or not an http:// address: one sentence and a non-zero exit', async () => {
  const free = createServer();
  await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
  const port = (free.address() as { port: number }).port;
  await new Promise((resolve) => free.close(resolve)); // nobody listens there now

  const refused = runScript(['--url', `http://127.0.0.1:${port}`]);
  assert.equal(refused.status, 1);
  assert.equal(
    refused.stderr,
    `nothing answers at http://127.0.0.1:${port} (ECONNREFUSED): start the server first, e.g. npx tsx server.ts.\n`,
  );

  const wrong = runScript(['--url', 'https://127.0.0.1:8000']);
  assert.equal(wrong.status, 2);
  assert.match(
    wrong.stderr,
    /^--url must be an http:\/\/ address such as http:\/\/127\.0\.0\.1:8000, got "https:\/\/127\.0\.0\.1:8000"\.\n$/,
  );
});

test('text flags: absent when not given, kept when given, refused when empty', () => {
  const spec = { about: 'test', defaultOut: 'results', numbers: {}, texts: { url: URL_FLAG } };
  assert.deepEqual(parseScriptFlags(spec, []), {
    out: 'results',
    quick: false,
    quiet: false,
    repeat: 1,
    client: 'raw',
    runtime: 'node',
  });
  assert.equal(parseScriptFlags(spec, ['--url', 'http://127.0.0.1:1']).url, 'http://127.0.0.1:1');
  assert.throws(
    () => parseScriptFlags(spec, ['--url', ' ']),
    (e: unknown) => e instanceof UserError && e.exitCode === 2,
  );
});
