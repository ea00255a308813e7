/**
 * Bad input: every malformed request of server/README.md's bad-input table, written byte for byte on a raw socket to the real
 * server, gets its documented status and a FastAPI-shaped JSON body, and the server keeps serving.
 * The tables below are the contract the README documents.
 */
import { test, before, after } from './harness.ts';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startServer, type RunningServer } from '../scripts/lib/processes/start-server.ts';
import { fireBurst } from '../scripts/lib/client/burst.ts';
import { waveSizes } from '../scripts/lib/model/waves.ts';

const DELAY = 200;
const POOL = 2;
let server: RunningServer;

before(async () => {
  server = await startServer({ poolSize: POOL, delayMs: DELAY });
});
after(() => server.stop());

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Writes `request` as it is and reads until the server closes the connection (every case here closes it). */
function exchange(request: string | Buffer): Promise<RawAnswer> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within 5 s to ${JSON.stringify(String(request).slice(0, 80))}`));
    }, 5000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const headers = Object.fromEntries(
        headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
      );
      const bodyText = rest.join('\r\n\r\n');
      let body: unknown = bodyText;
      try {
        body = JSON.parse(bodyText);
      } catch {
        // left as text: the assertions below say it should have been JSON
      }
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body });
    });
    socket.write(request);
  });
}

const get = (path: string, headers = 'Host: t\r\n') => `GET ${path} HTTP/1.1\r\n${headers}Connection: close\r\n\r\n`;
const withMethod = (method: string, path: string) =>
  `${method} ${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`;

test('ids FastAPI would accept as an int are answered 200 with the integer', async () => {
  for (const [id, user] of [
    ['7', 7],
    ['+5', 5],
    ['-5', -5],
    ['-0', 0],
    ['007', 7],
    ['%31', 1], // percent-encoded "1"
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
    ['7?delay_ms=60000', 7], // a query string changes nothing
  ] as const) {
    const answer = await exchange(get(`/asyncio-test/${id}`));
    assert.equal(answer.status, 200, id);
    assert.deepEqual(answer.body, { user, status: 'done' }, id);
  }
});

test('ids that are not integers: 422 int_parsing, with the decoded input echoed', async () => {
  for (const [id, input] of [
    ['abc', 'abc'],
    ['1.5', '1.5'], // float
    ['1e3', '1e3'],
    ['0x10', '0x10'],
    ['1_000', '1_000'],
    ['%20', ' '], // encoded space: "empty" once decoded
    ['%201%20', ' 1 '],
    ['%D9%A3', '\u0663'], // ARABIC-INDIC DIGIT THREE: a digit to Unicode, not to int()
    ['%EF%BC%91', '\uFF11'], // FULLWIDTH DIGIT ONE
    ['%F0%9F%98%80', '\u{1F600}'], // an emoji
    ['1%00', '1\u0000'], // NUL
    ['1%2F2', '1/2'], // an encoded slash stays inside the one segment
    ['%ZZ', '%ZZ'], // not valid percent-encoding: kept as sent
    ['--1', '--1'],
  ] as const) {
    const answer = await exchange(get(`/sync-test/${id}`));
    assert.equal(answer.status, 422, id);
    assert.match(answer.headers['content-type'] ?? '', /application\/json/, id);
    assert.deepEqual(
      answer.body,
      {
        detail: [
          {
            type: 'int_parsing',
            loc: ['path', 'user_id'],
            msg: 'Input should be a valid integer, unable to parse string as an integer',
            input,
          },
        ],
      },
      id,
    );
  }
});

test('integers beyond ±(2^53 − 1): 422 with the bound, never a rounded user', async () => {
  for (const [id, type] of [
    ['9007199254740992', 'less_than_equal'],
    ['99999999999999999999', 'less_than_equal'],
    ['9'.repeat(4000), 'less_than_equal'], // huge, still inside Node's 16 KiB header limit
    ['-9007199254740992', 'greater_than_equal'],
  ] as const) {
    const answer = await exchange(get(`/sync-test/${id}`));
    assert.equal(answer.status, 422, id.slice(0, 30));
    const [detail] = (answer.body as { detail: { type: string; loc: string[]; input: string }[] }).detail;
    assert.equal(detail?.type, type);
    assert.deepEqual(detail?.loc, ['path', 'user_id']);
    assert.equal(detail?.input, id);
  }
});

test('paths and methods: 404 and 405 with FastAPI bodies', async () => {
  for (const path of ['/sync-test/', '/sync-test/1/2', '/sync-test/1/', '/SYNC-TEST/1', '//sync-test/1', '/nope']) {
    const answer = await exchange(get(path));
    assert.deepEqual([answer.status, answer.body], [404, { detail: 'Not Found' }], path);
  }
  for (const [method, path, allow] of [
    ['POST', '/sync-test/1', 'GET'],
    ['PUT', '/asyncio-test/1', 'GET'],
    ['DELETE', '/sync-test/1', 'GET'],
    ['OPTIONS', '/sync-test/1', 'GET'],
    ['PATCH', '/health', 'GET'],
    ['GET', '/stats/reset', 'POST'],
  ] as const) {
    const answer = await exchange(withMethod(method, path));
    assert.deepEqual([answer.status, answer.body], [405, { detail: 'Method Not Allowed' }], `${method} ${path}`);
    assert.equal(answer.headers.allow, allow, `${method} ${path}`);
  }
});

test('requests that are not HTTP, or not routable: 400/431 with a JSON body, never a bare status', async () => {
  const bad = { detail: 'Bad Request' };
  for (const [name, request, status, body] of [
    ['unknown method', 'BREW /sync-test/1 HTTP/1.1\r\nHost: t\r\n\r\n', 400, bad],
    ['raw UTF-8 bytes in the path', Buffer.from(get('/sync-test/\u0663'), 'utf8'), 400, bad],
    ['header line without a colon', get('/sync-test/1', 'Host: t\r\nno colon here\r\n'), 400, bad],
    ['space in a header name', get('/sync-test/1', 'Host: t\r\nBad Header: x\r\n'), 400, bad],
    ['two Content-Length', 'GET /sync-test/1 HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400, bad],
    ['Content-Length not a number', get('/sync-test/1', 'Host: t\r\nContent-Length: abc\r\n'), 400, bad],
    ['HTTP/9.9', 'GET /sync-test/1 HTTP/9.9\r\nHost: t\r\n\r\n', 400, bad],
    ['not HTTP at all', 'hello\r\n\r\n', 400, bad],
    ['raw bytes', Buffer.from([0x00, 0x01, 0xff, 0xfe, 0x0d, 0x0a, 0x0d, 0x0a]), 400, bad],
    ['no Host header (HTTP/1.1)', get('/sync-test/1', ''), 400, bad],
    ['no Host header (HTTP/1.0)', 'GET /sync-test/1 HTTP/1.0\r\n\r\n', 400, bad],
    ['a target that is not a path', get('sync-test/1'), 400, bad],
    ['OPTIONS *', 'OPTIONS * HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n', 400, bad],
    ['URL of 20 000 characters', get(`/sync-test/${'1'.repeat(20_000)}`), 431, { detail: 'Request Header Fields Too Large' }],
    [
      'header of 20 000 characters',
      get('/sync-test/1', `Host: t\r\nX-Big: ${'a'.repeat(20_000)}\r\n`),
      431,
      { detail: 'Request Header Fields Too Large' },
    ],
  ] as const) {
    const answer = await exchange(request);
    assert.equal(answer.status, status, name);
    assert.match(answer.headers['content-type'] ?? '', /application\/json/, name);
    assert.deepEqual(answer.body, body, name);
  }
});

test('after all of that the server is whole, and no client input makes a request block longer or start threads', async () => {
  assert.deepEqual((await exchange(get('/health'))).body, { status: 'ok' });
  // Whatever the id, query or headers say, a sync request blocks for the server's delay on one of its threads.
  const burst = await fireBurst({
    baseUrl: server.url,
    path: (i) => `/sync-test/${i}?delay_ms=60000&pool=1000`,
    requests: POOL * 2,
    timeoutMs: 10_000,
  });
  assert.ok(burst.requests.every((r) => r.status === 200));
  // Two waves of the server's own pool and delay: the query's delay and pool were ignored.
  assert.deepEqual(waveSizes(burst.requests, DELAY), [POOL, POOL], `ends at ${burst.requests.map((r) => r.endMs)}`);
  const stats = await server.stats();
  assert.equal(stats.threadsAlive, POOL);
  assert.equal(stats.failed, 0);
  assert.equal(server.exited, null, 'the server is still running');
});
