/**
 * find-pool, run as a user runs it, against servers it is not told about: server.ts started with pools of 1, 3 and 7,
 * its async endpoint, CPU work on more threads than cores, two worker processes, a bounded queue; an https server
 * of the test's own that wants a POST with a header and a body; and bad input. Every verdict is read from the
 * results file the script wrote. The only times compared with are the server's configured delay (a request cannot
 * be answered sooner) and the budget the script was given.
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer as createHttpsServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import { createServer as createNetServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, type ServerOptions } from '../scripts/lib/processes/start-server.ts';
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

for (const pool of [1, 3, 7]) {
  test(`a pool of ${pool}: found exactly, D from one request, the verdict printed first, every burst beside the model`, async (t) => {
    const server = await serverWith(t, pool, DELAY);
    const { run, results, finding } = await findPool(t, `${server.url}/sync-test/{id}`, ['--max-requests', '32']);
    assert.equal(finding.kind, 'pool', finding.sentence);
    assert.equal(finding.poolSize, pool, finding.sentence);
    // No answer comes before the server's own delay; D is the earliest answer of any burst.
    assert.ok(finding.delayMs >= DELAY, `D = ${finding.delayMs} ms, below the server's ${DELAY} ms`);
    const earliest = Math.min(
      ...results.measurements.flatMap((m) => m.requests.filter((r) => r.status === 200).map((r) => r.endMs - r.startMs)),
    );
    assert.ok(Math.abs(finding.delayMs - earliest) < 0.01, `D ${finding.delayMs}, earliest answer ${earliest}`);
    assert.match(finding.sentence, new RegExp(`a pool of ${pool}\\b`));
    // The plan before the first burst; the sentence before the table.
    const out = run.stdout;
    assert.ok(out.indexOf('plan:') < out.indexOf('N = 1 (first):'), out);
    assert.ok(out.indexOf(finding.sentence) < out.indexOf('total ms'), out);
    // Confirmed: a burst of P in one wave and one of P + 1 in two, each with P in its first wave.
    const waves = (n: number) => results.measurements.filter((m) => m.concurrency === n && m.errors === 0).map((m) => m.waves);
    assert.ok(
      waves(pool).some((w) => w?.length === 1 && w[0] === pool),
      `N = ${pool}: ${JSON.stringify(waves(pool))}`,
    );
    assert.ok(
      waves(pool + 1).some((w) => w?.length === 2 && w[0] === pool),
      `N = ${pool + 1}: ${JSON.stringify(waves(pool + 1))}`,
    );
    // Every answered burst carries the model's total for the P it concluded.
    for (const m of results.measurements.filter((m) => m.errors === 0))
      assert.equal(m.predictedMs, Math.ceil(m.concurrency / pool) * finding.delayMs, m.label);
    assert.ok(results.staircases?.[0]?.points.length, 'a staircase');
  });
}

test('the async endpoint: no limit within --max-requests, and said so', async (t) => {
  const server = await serverWith(t, 1, DELAY);
  const { finding } = await findPool(t, `${server.url}/asyncio-test/{id}`, ['--max-requests', '16']);
  assert.equal(finding.kind, 'none', finding.sentence);
  assert.equal(finding.poolSize, null);
  assert.equal(finding.maxRequestsTried, 16);
  assert.equal(finding.refusedBeyond, null);
  assert.match(finding.sentence, /no limit up to 16/);
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

test('two worker processes: each one’s pool found by the header that names it, or their sum', async (t) => {
  const server = await serverWith(t, 3, 300, { workers: 2 });
  const { finding } = await findPool(t, `${server.url}/sync-test/{id}`, ['--max-requests', '32']);
  if (finding.kind === 'pool') assert.equal(finding.poolSize, 6, finding.sentence);
  else {
    assert.equal(finding.kind, 'uneven', finding.sentence);
    assert.equal(Object.keys(finding.perWorker ?? {}).length, 2, finding.sentence);
    assert.deepEqual(Object.values(finding.perWorkerPoolSize ?? {}), [3, 3], finding.sentence);
    assert.match(finding.sentence, /2 processes/);
  }
});

test('a bounded queue: refused beyond P + the queue, with the statuses, the edge confirmed by N = A and A + 1', async (t) => {
  const server = await serverWith(t, 2, DELAY, { queueLimit: 3 });
  const { results, finding } = await findPool(t, `${server.url}/sync-test/{id}`, ['--max-requests', '16']);
  assert.equal(finding.kind, 'pool', finding.sentence);
  assert.equal(finding.poolSize, 2);
  assert.equal(finding.refusedBeyond, 5, finding.sentence);
  assert.equal(finding.refusedBeyondConfirmed, true, finding.sentence);
  assert.ok(finding.refusedWith?.['HTTP 503'], JSON.stringify(finding.refusedWith));
  assert.match(finding.sentence, /Beyond 5 at once it refuses/);
  const at = (n: number) => results.measurements.filter((m) => m.concurrency === n);
  assert.ok(at(5).some((m) => m.ok === 5));
  assert.ok(at(6).some((m) => m.ok === 5 && m.statusCounts['503'] === 1));
});

test('the budget bounds the search: one request too long for it ends in a sentence; a short one leaves it undecided', async (t) => {
  const slow = await serverWith(t, 40, 2500);
  const tooLong = await runScriptAsync('find-pool.ts', ['--url', `${slow.url}/sync-test/{id}`, '--budget-s', '5']);
  assert.equal(tooLong.status, 2, tooLong.stderr);
  assert.match(tooLong.stderr, /not even two bursts fit the budget of 5 s; give --budget-s \d+ or more/);
  assert.doesNotMatch(tooLong.stderr, /\n\s+at /, 'no stack trace');

  const server = await serverWith(t, 40, 400);
  const budgetMs = 3000;
  const { finding } = await findPool(t, `${server.url}/sync-test/{id}`, ['--budget-s', String(budgetMs / 1000)]);
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

  const untrusted = await runScriptAsync('find-pool.ts', ['--url', url, ...DOCUMENTED, ...body]);
  assert.equal(untrusted.status, 2, untrusted.stderr);
  assert.match(untrusted.stderr, /nothing answers at https:\/\/127\.0\.0\.1:\d+ \(.*(certificate|self.signed).*\)/i);

  const wrongBody = await runScriptAsync('find-pool.ts', ['--url', url, '--insecure', ...DOCUMENTED, '--body', '{}']);
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

test('bad input ends in one sentence and exit 2: not a URL, not http, not this machine, nothing listening, a 404', async (t) => {
  // A port that was free a moment ago: nothing listens there.
  const closed = await new Promise<number>((resolve) => {
    const probe = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  const server = await serverWith(t, 1, 10);
  const cases: [string[], RegExp][] = [
    [['--url', 'not a url'], /--url must be an http:\/\/ or https:\/\/ address/],
    [['--url', 'ftp://127.0.0.1/x'], /--url must be an http:\/\/ or https:\/\/ address, got ftp:/],
    [['--url', 'http://192.0.2.1/sync-test/{id}'], /192\.0\.2\.1 is not this machine.*--allow-remote/],
    [['--url', `http://127.0.0.1:${closed}/sync-test/{id}`], /nothing answers at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/],
    [['--url', `${server.url}/no-such-endpoint/{id}`], /was answered 404/],
    [['--url', `${server.url}/sync-test/{id}`, '--max-requests', '1'], /--max-requests/],
  ];
  for (const [args, sentence] of cases) {
    const run = await runScriptAsync('find-pool.ts', args);
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, sentence, args.join(' '));
    assert.equal(run.stderr.trim().split('\n').length, 1, `one sentence: ${run.stderr}`);
  }
});
