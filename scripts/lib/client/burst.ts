/**
 * fireBurst: N concurrent GET requests, timed as closely as Node allows.
 *
 * How it stays out of the measurement:
 *  - Raw TCP sockets, not fetch or an http.Agent: fetch is the slowest way to fire a burst and an agent
 *    queues, pools and parses more than we need.
 *  - All N connections are opened first (like a keep-alive client), then every request is written in one
 *    synchronous loop. So "total" is first request written → last response complete, and the TCP handshakes
 *    are reported beside it (connectMs), not hidden in it.
 *  - Everything that can be done before the clock starts is: the request bytes, the records, the listeners.
 *    The timed loop only writes, so the N-th request leaves as soon after the first as the kernel allows
 *    (scripts/fidelity.ts holds this client to a minimal reference client; see its figures in the README).
 *  - One deadline timer for the whole burst instead of one per request; per request only two numbers and a
 *    status are kept.
 *
 * Every request ends as a record: its status, or the kind of error (timeout, ECONNRESET, ECONNREFUSED, …).
 * A failing request never loses the others' records.
 *
 * `client: 'curl'` fires the same burst the blog's way instead (./curl-burst.ts), to show what that costs.
 *
 * One file of about 300 lines on purpose: what happens inside the clock is the measurement, and it reads best in
 * one place, from the connections opened to the last response parsed.
 */
import { connect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { readFileSync, readdirSync } from 'node:fs';
import { fireCurlBurst } from './curl-burst.ts';
import { parseServerTiming } from './server-timing.ts';
import { round3 } from '../../../server/numbers.ts';
import { UserError } from '../core/outcomes.ts';
import type { BurstOptions, BurstResult, NoAnswer, RequestRecord } from './burst-types.ts';

export type { BurstClient, BurstOptions, BurstResult, RequestRecord } from './burst-types.ts';

export async function fireBurst(options: BurstOptions): Promise<BurstResult> {
  if (options.client === 'curl') return fireCurlBurst(options);
  const { requests: n, timeoutMs } = options;
  const target = targetOf(options.baseUrl, options.insecure);
  checkOpenFileLimit(n);
  const fromConnect = options.timedFrom === 'connect';

  // 1. Open every connection first; the clock has not started. (Timed from the connect, each opens inside it.)
  const connectStart = performance.now();
  const sockets: (Socket | NoAnswer | null)[] = fromConnect
    ? Array(n).fill(null)
    : await openConnections(target, n, options.connectBatch ?? 1000);
  const connectMs = fromConnect ? null : performance.now() - connectStart;

  // 2. Before the clock: each request's bytes and its record.
  const records: RequestRecord[] = [];
  let done = 0;
  let finish!: () => void;
  const allDone = new Promise<void>((resolve) => (finish = resolve));
  let t0 = 0;
  const end = (record: RequestRecord, status: number | null, error?: NoAnswer, response?: ResponseReader) => {
    if (record.endMs >= 0) return;
    record.endMs = performance.now() - t0;
    record.status = status;
    if (error !== undefined) record.error = error;
    if (response?.worker !== undefined) record.worker = response.worker;
    // Read after the clock was taken: parsing costs the record nothing of its time.
    if (response?.serverTimingHeader !== undefined) {
      const timing = parseServerTiming(response.serverTimingHeader);
      if (timing !== null) record.serverTiming = timing;
    }
    if (status !== null && status >= 400 && response) record.detail = response.detail();
    done++;
    options.onRequestDone?.(done, n, record);
    if (done === n) finish();
  };
  const requestBytes = Array.from({ length: n }, (_, i) => requestOf(options, target, i + 1));
  for (let i = 0; i < n; i++) records.push({ id: i + 1, startMs: 0, endMs: -1, status: null });

  /** A connected socket's response listeners: the record ends with its status, or the kind of error. */
  const listen = (socket: Socket, record: RequestRecord) => {
    socket.removeListener('error', noteEarlyError);
    const response = new ResponseReader(options.workerHeader);
    socket.on('data', (chunk: Buffer) => {
      const status = response.push(chunk);
      if (status !== undefined) {
        end(record, status, undefined, response);
        socket.destroy();
      }
    });
    socket.on('end', () => {
      const status = response.endOfStream();
      if (status !== undefined) end(record, status, undefined, response);
      else end(record, null, 'closed');
      socket.destroy();
    });
    socket.on('error', (error: NodeJS.ErrnoException) =>
      end(record, null, (error.code as NoAnswer | undefined) ?? 'socket error'),
    );
    socket.on('close', () => end(record, null, 'closed'));
  };

  // 3. The clock starts; write every request, then read each response as it completes. Timed from the connect,
  //    each request is written the moment its own connection is up.
  t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const record = records[i]!;
    record.startMs = performance.now() - t0;
    if (fromConnect) {
      const socket = connectTo(target);
      sockets[i] = socket;
      socket.once(target.tls ? 'secureConnect' : 'connect', () => {
        record.connectMs = round3(performance.now() - t0 - record.startMs);
        listen(socket, record);
        socket.write(requestBytes[i]!);
      });
      socket.once('error', (error: NodeJS.ErrnoException) =>
        end(record, null, (error.code as NoAnswer | undefined) ?? 'connect error'),
      );
      continue;
    }
    const socket = sockets[i]!;
    if (typeof socket === 'string') {
      end(record, null, socket); // it could not connect
    } else if (earlyErrors.has(socket!)) {
      end(record, null, earlyErrors.get(socket!)); // its connection broke since
      socket!.destroy();
    } else {
      listen(socket!, record);
      socket!.write(requestBytes[i]!);
    }
  }

  options.onStarted?.(records, t0);

  // 4. One deadline for the whole burst; an abort ends it at once.
  const endOpen = (why: NoAnswer) =>
    records.forEach((record, i) => {
      if (record.endMs < 0) {
        end(record, null, why);
        const socket = sockets[i];
        if (typeof socket === 'object') socket?.destroy();
      }
    });
  const deadline = setTimeout(() => endOpen('timeout'), timeoutMs);
  const interrupt = () => endOpen('interrupted');
  options.signal?.addEventListener('abort', interrupt);
  if (options.signal?.aborted) interrupt();
  if (n > 0) await allDone;
  clearTimeout(deadline);
  options.signal?.removeEventListener('abort', interrupt);

  const totalMs = records.reduce((last, r) => Math.max(last, r.endMs), 0);
  return { startedAt: t0, totalMs, connectMs, requests: records };
}

/** Where a burst goes: host, port, and TLS for an https:// URL. */
interface Target {
  host: string;
  port: number;
  /** The Host header. */
  hostHeader: string;
  tls: { servername?: string; rejectUnauthorized: boolean } | null;
}

function targetOf(baseUrl: string, insecure = false): Target {
  const url = new URL(baseUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`only http:// and https:// targets are supported, got ${baseUrl}`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const https = url.protocol === 'https:';
  // SNI takes a name, never an address.
  const tlsOptions = https ? { ...(isIP(host) ? {} : { servername: host }), rejectUnauthorized: !insecure } : null;
  return { host, port: Number(url.port || (https ? 443 : 80)), hostHeader: url.host, tls: tlsOptions };
}

/** The bytes of request `id`: a GET unless the burst says otherwise, one connection each (Connection: close). */
function requestOf(options: BurstOptions, target: Target, id: number): Buffer {
  const { method = 'GET', headers = [], body } = options.request ?? {};
  const lines = [`${method} ${options.path(id)} HTTP/1.1`, `Host: ${target.hostHeader}`, ...headers, 'Connection: close'];
  if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), Buffer.from(body ?? '', 'utf8')]);
}

function connectTo(target: Target): Socket {
  return target.tls
    ? tlsConnect({ host: target.host, port: target.port, ...target.tls })
    : connect({ host: target.host, port: target.port, noDelay: true });
}

/**
 * Every connection is an open file here and another in the server, which inherits this process's limit.
 * Beyond `ulimit -n` the kernel refuses them with EMFILE deep into the burst; say so before firing instead.
 */
export function checkOpenFileLimit(connections: number): void {
  const limit = openFileLimit();
  if (limit === null) return; // not Linux: nothing to read; the OS will speak for itself
  // What this process holds already, plus room for the server's own (a pool of 40 holds ~190).
  const needed = connections + readdirSync('/proc/self/fd').length + 256;
  if (needed <= limit.soft) return;
  const beyondHard = needed > limit.hard ? ` (above the hard limit of ${limit.hard}: as root, or in limits.conf)` : '';
  throw new UserError(
    `${connections} concurrent requests need about ${needed} open files, but this process may open ${limit.soft}: ` +
      `raise the limit with \`ulimit -n ${needed}\`${beyondHard} in the shell that runs it, or fire fewer requests.`,
  );
}

/** The soft and hard open-file limits from /proc/self/limits (Linux), or null where there is none. */
function openFileLimit(): { soft: number; hard: number } | null {
  let text: string;
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return null;
  }
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!match) return null;
  const value = (field: string) => (field === 'unlimited' ? Infinity : Number(field));
  return { soft: value(match[1]!), hard: value(match[2]!) };
}

/** Opens n connections, `batch` at a time. A connection that fails is returned as its error code. */
async function openConnections(target: Target, n: number, batch: number): Promise<(Socket | NoAnswer)[]> {
  const sockets: (Socket | NoAnswer)[] = [];
  for (let first = 0; first < n; first += batch) {
    const count = Math.min(batch, n - first);
    sockets.push(...(await Promise.all(Array.from({ length: count }, () => openConnection(target)))));
  }
  return sockets;
}

/** A connection that fails while the others are still opening is remembered here, not thrown. */
const earlyErrors = new WeakMap<Socket, NoAnswer>();
function noteEarlyError(this: Socket, error: NodeJS.ErrnoException) {
  if (!earlyErrors.has(this)) earlyErrors.set(this, (error.code as NoAnswer | undefined) ?? 'socket error');
}

function openConnection(target: Target): Promise<Socket | NoAnswer> {
  return new Promise((resolve) => {
    const socket = connectTo(target);
    socket.once(target.tls ? 'secureConnect' : 'connect', () => {
      socket.off('error', onError);
      socket.on('error', noteEarlyError);
      resolve(socket);
    });
    const onError = (error: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve((error.code as NoAnswer | undefined) ?? 'connect error');
    };
    socket.once('error', onError);
  });
}

/**
 * Just enough HTTP/1.1 to know when a response is complete and what its status is: Content-Length,
 * chunked, or close-delimited bodies. Returns the status once the response is complete.
 */
export class ResponseReader {
  private buffered: Buffer = Buffer.alloc(0);
  private status: number | undefined;
  private bodyStart = -1;
  private contentLength: number | undefined;
  private chunked = false;
  /** The header naming the process that answered (X-Worker unless told otherwise), once the head has arrived. */
  worker: string | undefined;
  /** The Server-Timing header as sent (its lines joined), where there is one; parsed once the request has ended. */
  serverTimingHeader: string | undefined;
  private readonly workerPattern: RegExp;

  constructor(workerHeader = 'X-Worker') {
    this.workerPattern = new RegExp(`\\r\\n${workerHeader.replace(/[^\w-]/g, '')}:\\s*([^\\r]+)`, 'i');
  }

  push(chunk: Buffer): number | undefined {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    if (this.bodyStart < 0) {
      const headerEnd = this.buffered.indexOf('\r\n\r\n');
      if (headerEnd < 0) return undefined;
      const head = this.buffered.subarray(0, headerEnd).toString('latin1');
      const statusMatch = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      this.status = statusMatch ? Number(statusMatch[1]) : 0;
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      this.contentLength = length ? Number(length[1]) : undefined;
      this.chunked = /\r\ntransfer-encoding:[^\r]*chunked/i.test(head);
      this.worker = this.workerPattern.exec(head)?.[1]?.trim();
      if (/\r\nserver-timing:/i.test(head)) {
        this.serverTimingHeader = [...head.matchAll(/\r\nserver-timing:([^\r]*)/gi)].map((m) => m[1]!.trim()).join(', ');
      }
      this.bodyStart = headerEnd + 4;
    }
    const bodyBytes = this.buffered.length - this.bodyStart;
    if (this.contentLength !== undefined) return bodyBytes >= this.contentLength ? this.status : undefined;
    if (this.chunked) return this.buffered.subarray(-5).toString('latin1') === '0\r\n\r\n' ? this.status : undefined;
    return undefined; // ends with the connection
  }

  /** What an error answer says: FastAPI's `detail` if the body is its JSON, else the body's start. */
  detail(): string {
    const raw = this.bodyStart < 0 ? Buffer.alloc(0) : this.buffered.subarray(this.bodyStart);
    const body = (this.chunked ? dechunked(raw) : raw).subarray(0, 2000).toString('utf8');
    try {
      const { detail } = JSON.parse(body) as { detail?: unknown };
      if (detail !== undefined) return (typeof detail === 'string' ? detail : JSON.stringify(detail)).slice(0, 300);
    } catch {
      // not JSON: the text itself
    }
    return body.trim().slice(0, 300);
  }

  /** The server closed the connection: complete if the body was close-delimited. */
  endOfStream(): number | undefined {
    if (this.bodyStart < 0 || this.contentLength !== undefined || this.chunked) return undefined;
    return this.status;
  }
}

/** A chunked body's data, its chunk sizes taken out (as far as it is complete). */
function dechunked(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < raw.length) {
    const lineEnd = raw.indexOf('\r\n', at);
    const size = lineEnd < 0 ? 0 : Number.parseInt(raw.subarray(at, lineEnd).toString('latin1'), 16);
    if (!(size > 0)) break;
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
