/**
 * find-pool, run as a user runs it, against servers it is not told about: server.ts with a pool of 3, CPU work on more
 * threads than cores, a budget too short for the search; an https server of the test's own that wants a POST with a
 * header and a body, and one slower to take connections than a burst brings them; and bad input. Every verdict is read
 * from the results file the script wrote. The only times compared with are the server's configured delay (a request
 * cannot be answered sooner) and the budget the script was given. The self-check inside run-all --quick
 * (test/scripts.test.ts) holds the same checks on the suite's own endpoints, so they are not fired twice: pools of 1,
 * 4, 7, 10 and 40 found exactly with every burst beside the model, the async endpoint's no limit, two worker
 * processes, a bounded queue's edge.
 */
import { test, before, after } from './harness.ts';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer as createHttpsServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import { createServer as createNetServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, type RunningServer, type ServerOptions } from '../scripts/lib/processes/start-server.ts';
import { calibrate } from '../scripts/lib/measure/calibrate.ts';
import type { ResultsFile } from '../scripts/lib/results/types.ts';
import type { FindPoolResults } from '../scripts/find-pool.ts';
import { hashSync } from '../server/pool-tasks.js';
import { runScriptAsync, tempDir } from './run-script.ts';

type Context = Parameters<typeof tempDir>[0] & { after: (fn: () => unknown) => void };

/** find-pool --url URL with `args`, into a temporary folder: the run and what it wrote. */
async function findPool(t: Context, url: string, args: string[] = []) {
  const out = await tempDir(t);
  const run = await runScriptAsync('find-pool.ts', ['--url', url, '--out', out, ...args], 4 * 60_000);
  assert.equal(run.status, 0, `find-pool exited ${run.status}: ${run.stderr}`);
  const results = JSON.parse(await readFile(join(out, 'find-pool.json'), 'utf8')) as ResultsFile<FindPoolResults>;
  assert.equal(results.findings.length, 1);
  return { run, results, finding: results.findings[0]! };
}

/** A server.ts of the test's own, stopped after the test. */
async function serverWith(t: Context, pool: number, delayMs: number, settings: ServerOptions = {}, env = {}) {
  const server = await startServer({ poolSize: pool, delayMs, ...settings }, { env });
  t.after(() => server.stop());
  return server;
}

const DELAY = 200;
const POOL = 3;

/** server.ts with a pool of 3: the pool test's, and then the server bad input asks for a path it does not have. */
let pool3: RunningServer;
before(async () => {
  pool3 = await startServer({ poolSize: POOL, delayMs: DELAY });
});
after(() => pool3?.stop());

test(`a pool of ${POOL}: found exactly, D from one request, the verdict printed first, every burst beside the model`, async (t) => {
  const { run, results, finding } = await findPool(t, `${pool3.url}/sync-test/{id}`, ['--max-requests', '32']);
  assert.equal(finding.kind, 'pool', finding.sentence);
  assert.equal(finding.poolSize, POOL, finding.sentence);
  // No answer comes before the server's own delay; D is the earliest answer of any burst.
  assert.ok(finding.delayMs >= DELAY, `D = ${finding.delayMs} ms, below the server's ${DELAY} ms`);
  const earliest = Math.min(
    ...results.measurements.flatMap((m) => m.requests.filter((r) => r.status === 200).map((r) => r.endMs - r.startMs)),
  );
  assert.ok(Math.abs(finding.delayMs - earliest) < 0.01, `D ${finding.delayMs}, earliest answer ${earliest}`);
  assert.match(finding.sentence, new RegExp(`a pool of ${POOL}\\b`));
  // The plan before the first burst; the sentence before the table.
  const out = run.stdout;
  assert.ok(out.indexOf('plan:') < out.indexOf('N = 1 (first):'), out);
  assert.ok(out.indexOf(finding.sentence) < out.indexOf('total ms'), out);
  // Confirmed: a burst of P in one wave and one of P + 1 in two, each with P in its first wave.
  const waves = (n: number) => results.measurements.filter((m) => m.concurrency === n && m.errors === 0).map((m) => m.waves);
  assert.ok(
    waves(POOL).some((w) => w?.length === 1 && w[0] === POOL),
    `N = ${POOL}: ${JSON.stringify(waves(POOL))}`,
  );
  assert.ok(
    waves(POOL + 1).some((w) => w?.length === 2 && w[0] === POOL),
    `N = ${POOL + 1}: ${JSON.stringify(waves(POOL + 1))}`,
  );
  // Every answered burst carries the model's total for the P it concluded.
  for (const m of results.measurements.filter((m) => m.errors === 0))
    assert.equal(m.predictedMs, Math.ceil(m.concurrency / POOL) * finding.delayMs, m.label);
  assert.ok(results.staircases?.[0]?.points.length, 'a staircase');
});

test('CPU work on more threads than cores: found as CPU, with the parallelism it got', async (t) => {
  // Async hashes on libuv's threadpool, twice as many threads as this machine has cores, so they must share them
  // whatever the machine. (Set up by the core count; the finder is not told it and judges by the completions.)
  const cores = availableParallelism();
  const { iterations } = calibrate(150, hashSync);
  const server = await serverWith(
    t,
    1,
    0,
    { hashIterations: iterations },
    {
      UV_THREADPOOL_SIZE: String(2 * cores),
    },
  );
  const { results, finding } = await findPool(t, `${server.url}/hash-test/{id}`, ['--max-requests', String(4 * cores)]);
  // Each burst as N: its waves, and its earliest answer in Ds: what the verdict was read from.
  const bursts = results.measurements
    .map((m) => {
      const first = Math.min(...m.requests.filter((r) => r.status === 200).map((r) => r.endMs - r.startMs));
      return `${m.concurrency}: [${m.waves}] first at ${(first / finding.delayMs).toFixed(2)} D`;
    })
    .join('; ');
  assert.equal(finding.kind, 'cpu', `${finding.sentence} (${bursts})`);
  // Side by side, never more than the cores there are (a tenth for the clocks' rounding).
  const parallelism = finding.effectiveParallelism!;
  assert.ok(parallelism > 0 && parallelism <= cores + 0.1, `parallelism ${parallelism} on ${cores} cores`);
  assert.match(finding.sentence, /shares the cores/);
});

test('the budget bounds the search: one request too long for it ends in a sentence; a short one leaves it undecided', async (t) => {
  // Awaited timers of 400 ms: nothing limits them, so only the budget ends the search.
  const server = await serverWith(t, 1, 400);
  const url = `${server.url}/asyncio-test/{id}`;
  // A budget of 1 s: after one request of 400 ms, three more do not fit.
  const tooLong = await runScriptAsync('find-pool.ts', ['--url', url, '--budget-s', '1']);
  assert.equal(tooLong.status, 2, tooLong.stderr);
  assert.match(tooLong.stderr, /not even two bursts fit the budget of 1 s; give --budget-s \d+ or more/);
  assert.doesNotMatch(tooLong.stderr, /\n\s+at /, 'no stack trace');

  const budgetMs = 3000;
  const { finding } = await findPool(t, url, ['--budget-s', String(budgetMs / 1000)]);
  assert.equal(finding.kind, 'undecided', finding.sentence);
  assert.equal(finding.poolSize, null);
  // What it knows: every burst it fired was one wave, so P is at least its largest, and nothing bounds it above.
  assert.ok(finding.poolSizeRange![0] >= 2 && finding.poolSizeRange![1] === null, JSON.stringify(finding.poolSizeRange));
  assert.match(finding.sentence, /budget of 3\.0 s ran out first; it serves at least \d+ at once/);
  // Every request's deadline is the budget's end; a second is for closing sockets on a slow machine.
  assert.ok(finding.elapsedMs <= budgetMs + 1000, `${finding.elapsedMs} ms of bursts on a budget of ${budgetMs}`);
});

/** A self-signed certificate for 127.0.0.1 and localhost in the test's folder, or null where openssl is missing. */
async function selfSigned(t: Context): Promise<{ key: Buffer; cert: Buffer } | null> {
  const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  if (openssl.status !== 0) return null;
  const dir = await tempDir(t);
  const made = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'].concat([
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ]),
    { encoding: 'utf8' },
  );
  assert.equal(made.status, 0, made.stderr);
  return { key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'cert.pem')) };
}

/**
 * An https server of the test's own with a pool of `pool`, each request holding a place for `delayMs`, that serves
 * only the request it documents (anything else: a 400). With `acceptMs`, its intake is one acceptor that finishes one
 * TLS handshake at a time, each `acceptMs` after the one before (the certificate is handed over late, through
 * SNICallback): a server slower to take connections than a burst brings them, as a servlet container's single
 * acceptor or a TLS endpoint's handshakes are. Returns the URL of its endpoint.
 */
async function poolServer(
  t: Context,
  tls: { key: Buffer; cert: Buffer },
  pool: number,
  delayMs: number,
  acceptMs = 0,
  host = '127.0.0.1',
): Promise<string> {
  let busy = 0;
  const waiting: (() => void)[] = [];
  let acceptorFree = 0;
  const context = createSecureContext(tls);
  const server = createHttpsServer(
    {
      ...tls,
      SNICallback: (_name, done) => {
        acceptorFree = Math.max(acceptorFree, performance.now()) + acceptMs;
        setTimeout(() => done(null, context), acceptorFree - performance.now());
      },
    },
    async (request, response) => {
      let body = '';
      for await (const chunk of request) body += chunk;
      if (request.method !== 'POST' || request.headers['x-token'] !== 'secret' || body !== '{"item":1}') {
        response.writeHead(400, { 'content-type': 'application/json' }).end('{"detail":"not the documented request"}');
        return;
      }
      if (busy >= pool) await new Promise<void>((resolve) => waiting.push(resolve));
      busy++;
      await sleep(delayMs);
      busy--;
      waiting.shift()?.();
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  return `https://${host}:${typeof address === 'object' && address ? address.port : 0}/orders/{id}`;
}

const DOCUMENTED = ['--method', 'POST', '--header', 'X-Token: secret', '--header', 'Content-Type: application/json'];

test('https with a self-signed certificate (--insecure), a POST with headers and a body: the pool behind it found', async (t) => {
  const tls = await selfSigned(t);
  if (!tls) return t.skip('no openssl on this machine to make a certificate with');
  const POOL = 3;
  const url = await poolServer(t, tls, POOL, DELAY);
  const body = ['--body', '{"item":1}', '--max-requests', '16'];

  // Two runs that end at their first request, side by side: nothing in them is timed.
  const [untrusted, wrongBody] = await Promise.all([
    runScriptAsync('find-pool.ts', ['--url', url, ...DOCUMENTED, ...body]),
    runScriptAsync('find-pool.ts', ['--url', url, '--insecure', ...DOCUMENTED, '--body', '{}']),
  ]);
  assert.equal(untrusted.status, 2, untrusted.stderr);
  assert.match(untrusted.stderr, /nothing answers at https:\/\/127\.0\.0\.1:\d+ \(.*(certificate|self.signed).*\)/i);
  assert.equal(wrongBody.status, 2, wrongBody.stderr);
  assert.match(wrongBody.stderr, /was answered 400: .*not the documented request/);

  const { finding } = await findPool(t, url, ['--insecure', ...DOCUMENTED, ...body]);
  assert.equal(finding.kind, 'pool', finding.sentence);
  assert.equal(finding.poolSize, POOL, finding.sentence);
});

test('a server slower to take connections than the burst brings them: the right P, and a sentence on its intake', async (t) => {
  const tls = await selfSigned(t);
  if (!tls) return t.skip('no openssl on this machine to make a certificate with');
  // One acceptor, one TLS handshake every 25 ms: a burst of 16 is taken in over 375 ms, most of D = 400 ms. The
  // server's name is sent (localhost), so its SNICallback runs for every connection.
  const POOL = 8;
  const url = await poolServer(t, tls, POOL, 400, 25, 'localhost');
  const { finding } = await findPool(t, url, ['--insecure', ...DOCUMENTED, '--body', '{"item":1}', '--max-requests', '32']);
  assert.equal(finding.kind, 'pool', finding.sentence);
  assert.equal(finding.poolSize, POOL, finding.sentence);
  assert.match(finding.sentence, /The server's intake shaped \d+ bursts?: connections waited up to \d+ ms to be taken/);
  assert.match(finding.sentence, /acceptor is the next thing to look at/);
});

test('bad input ends in one sentence and exit 2: not a URL, not http, not this machine, nothing listening, a 404', async () => {
  // A port that was free a moment ago: nothing listens there.
  const closed = await new Promise<number>((resolve) => {
    const probe = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  const cases: [string[], RegExp][] = [
    [['--url', 'not a url'], /--url must be an http:\/\/ or https:\/\/ address/],
    [['--url', 'ftp://127.0.0.1/x'], /--url must be an http:\/\/ or https:\/\/ address, got ftp:/],
    [['--url', 'http://192.0.2.1/sync-test/{id}'], /192\.0\.2\.1 is not this machine.*--allow-remote/],
    [['--url', `http://127.0.0.1:${closed}/sync-test/{id}`], /nothing answers at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/],
    [['--url', `${pool3.url}/no-such-endpoint/{id}`], /was answered 404/],
    [['--url', `${pool3.url}/sync-test/{id}`, '--max-requests', '1'], /--max-requests/],
  ];
  // Side by side: each ends before any burst, and nothing in them is timed.
  const runs = await Promise.all(cases.map(([args]) => runScriptAsync('find-pool.ts', args)));
  for (const [i, [args, sentence]] of cases.entries()) {
    const run = runs[i]!;
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, sentence, args.join(' '));
    assert.equal(run.stderr.trim().split('\n').length, 1, `one sentence: ${run.stderr}`);
  }
});
