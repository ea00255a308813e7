/**
 * The burst client against small real servers that misbehave on purpose: every request ends as a record,
 * errors by kind, and one bad request never loses the others.
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { createServer, type Server } from 'node:http';
import { fireBurst, ResponseReader } from '../scripts/lib/client/burst.ts';
import { fireReference } from '../scripts/lib/client/reference-client.ts';
import { parseServerTiming } from '../scripts/lib/client/server-timing.ts';

function listen(server: Server | TcpServer): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)),
  );
}

test('ResponseReader knows when Content-Length, chunked and close-delimited responses are complete', () => {
  const fixed = new ResponseReader();
  assert.equal(fixed.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab')), undefined);
  assert.equal(fixed.push(Buffer.from('cde')), 200);

  const chunked = new ResponseReader();
  assert.equal(chunked.push(Buffer.from('HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n')), undefined);
  assert.equal(chunked.push(Buffer.from('0\r\n\r\n')), 503);
  assert.equal(chunked.detail(), 'abc', "an error's text without the chunk sizes");
  const fastApi = new ResponseReader();
  fastApi.push(Buffer.from('HTTP/1.1 400 Bad\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"det\r\na\r\nail":"no"}\r\n0\r\n\r\n'));
  assert.equal(fastApi.detail(), 'no', "FastAPI's detail read across chunks");

  const closing = new ResponseReader();
  assert.equal(closing.push(Buffer.from('HTTP/1.0 404 Not Found\r\n\r\nbody')), undefined);
  assert.equal(closing.endOfStream(), 404);

  const cut = new ResponseReader();
  cut.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
  assert.equal(cut.endOfStream(), undefined, 'a body cut short is not a response');
});

test('Server-Timing is read as the W3C grammar has it: ms by name, quoted values, several lines, nothing thrown', () => {
  assert.deepEqual(parseServerTiming('pool-wait;dur=3000.2, pool-run;dur=3000.5'), { 'pool-wait': 3000.2, 'pool-run': 3000.5 });
  assert.deepEqual(
    parseServerTiming('db;desc="a, b; c";dur="12.5", cache;desc=hit, total;DUR=7;dur=9'),
    { db: 12.5, cache: 0, total: 7 },
    'a comma or semicolon inside quotes does not split; no dur counts 0; the first dur counts',
  );
  assert.deepEqual(parseServerTiming('x;dur=1, x;dur=2.5'), { x: 3.5 }, 'a name given twice is added up');
  assert.equal(parseServerTiming(''), null);
  assert.equal(parseServerTiming(' , ;dur=3, "quoted"'), null, 'no metric name: nothing');
  assert.deepEqual(parseServerTiming('a;dur=abc, b;dur=4'), { a: 0, b: 4 }, 'a dur that is not a number counts 0');
});

test('the burst client keeps each answer’s Server-Timing, only where one was sent', async (t) => {
  const server = createServer((req, res) => {
    const id = Number(req.url!.split('/').pop());
    // Two header lines for id 2: they are one list, as HTTP says.
    if (id === 2) res.setHeader('Server-Timing', ['pool-wait;dur=10', 'pool-run;dur=20.5']);
    else if (id === 3) res.setHeader('Server-Timing', 'timer;dur=3.25');
    res.end('ok');
  });
  const url = await listen(server);
  t.after(() => server.close());
  const burst = await fireBurst({ baseUrl: url, path: (i) => `/r/${i}`, requests: 3, timeoutMs: 5000 });
  assert.deepEqual(
    burst.requests.map((r) => r.serverTiming),
    [undefined, { 'pool-wait': 10, 'pool-run': 20.5 }, { timer: 3.25 }],
  );
  assert.ok(!('serverTiming' in burst.requests[0]!), 'no header, no field');
});

test('statuses are recorded per request, with start and end offsets', async (t) => {
  const server = createServer((req, res) => {
    const id = Number(req.url!.split('/').pop());
    res.writeHead(id % 2 === 0 ? 200 : 500, { 'content-type': 'text/plain' }).end('x'.repeat(id));
  });
  const url = await listen(server);
  t.after(() => server.close());
  const burst = await fireBurst({ baseUrl: url, path: (i) => `/r/${i}`, requests: 20, timeoutMs: 5000 });
  assert.equal(burst.requests.length, 20);
  for (const r of burst.requests) {
    assert.equal(r.status, r.id % 2 === 0 ? 200 : 500);
    assert.ok(r.startMs >= 0 && r.endMs >= r.startMs && r.endMs <= burst.totalMs);
  }
  assert.equal(burst.totalMs, Math.max(...burst.requests.map((r) => r.endMs)));
});

/** A server that answers every request but /r/3, which it never answers. */
async function neverAnswersThree(t: { after: (fn: () => void) => void }): Promise<string> {
  const server = createServer((req, res) => {
    if (req.url === '/r/3') return;
    res.end('ok');
  });
  const url = await listen(server);
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return url;
}

test('a request that is never answered ends as a timeout; the others keep their records', async (t) => {
  const url = await neverAnswersThree(t);
  const began = performance.now();
  const burst = await fireBurst({ baseUrl: url, path: (i) => `/r/${i}`, requests: 5, timeoutMs: 300 });
  assert.ok(performance.now() - began < 3000, 'the deadline ended the burst');
  assert.deepEqual(
    burst.requests.map((r) => r.status ?? r.error),
    [200, 200, 'timeout', 200, 200],
  );
});

test('a server that hangs up mid-response or refuses connections gives errors by kind', async (t) => {
  const rude = createTcpServer((socket) =>
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\ncut')),
  );
  const rudeUrl = await listen(rude);
  t.after(() => rude.close());
  const cut = await fireBurst({ baseUrl: rudeUrl, path: (i) => `/${i}`, requests: 3, timeoutMs: 3000 });
  assert.deepEqual(
    cut.requests.map((r) => r.error),
    ['closed', 'closed', 'closed'],
  );

  const gone = createServer();
  const goneUrl = await listen(gone);
  await new Promise((resolve) => gone.close(resolve)); // the port is free again: nobody listens
  const refused = await fireBurst({ baseUrl: goneUrl, path: (i) => `/${i}`, requests: 3, timeoutMs: 3000 });
  assert.deepEqual(
    refused.requests.map((r) => [r.status, r.error]),
    [
      [null, 'ECONNREFUSED'],
      [null, 'ECONNREFUSED'],
      [null, 'ECONNREFUSED'],
    ],
  );
});

test('the reference client (fidelity) counts a request that never ends in its total, at the deadline', async (t) => {
  const url = await neverAnswersThree(t);
  const burst = await fireReference(url, (i) => `/r/${i}`, 5, 300);
  assert.deepEqual(
    burst.requests.map((r) => r.status ?? r.error),
    [200, 200, 'timeout', 200, 200],
  );
  // The total is the unanswered request's, ended by the 300 ms deadline (a libuv timer: whole milliseconds, so
  // it may fire a fraction of one early by the high-resolution clock), not the answered ones' few ms.
  const unanswered = burst.requests[2]!;
  assert.equal(burst.totalMs, unanswered.endMs);
  assert.ok(unanswered.endMs >= 299, `total ${burst.totalMs} ms: the unanswered request counts until the deadline`);
  assert.ok(
    burst.requests.filter((r) => r.status === 200).every((r) => r.endMs < unanswered.endMs),
    'the answered ones ended first',
  );
});
