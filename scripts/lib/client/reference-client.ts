/**
 * The yardstick for the suite's burst client (scripts/fidelity.ts): the least a client can do and still time
 * a burst. A module of its own so the fidelity script stays readable and the tests can hold it to its promises.
 */
import { connect, type Socket } from 'node:net';
import type { BurstResult } from './burst-types.ts';

/**
 * The least a client can do and still time a burst: every connection opened and every listener attached
 * first, every request (built before the clock starts) written in one loop, and a response counted complete
 * at its first chunk: our responses are under 200 bytes and the server writes each in one go. Per request one
 * float and one status in typed arrays; records are built after the clock stops. Inside the clock it does no
 * more than the suite's client does (less: no parser, no record objects), so whatever the suite's client adds
 * beyond this is its own cost. A request that never ends counts at the deadline, in the total too.
 */
export async function fireReference(
  baseUrl: string,
  path: (id: number) => string,
  n: number,
  timeoutMs: number,
): Promise<BurstResult> {
  const { hostname, port, host } = new URL(baseUrl);
  const requests = Array.from({ length: n }, (_, i) =>
    Buffer.from(`GET ${path(i + 1)} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`),
  );
  const connectStart = performance.now();
  const sockets: (Socket | null)[] = [];
  for (let first = 0; first < n; first += 1000) {
    const batch = Array.from({ length: Math.min(1000, n - first) }, () => {
      return new Promise<Socket | null>((resolve) => {
        const socket = connect({ host: hostname, port: Number(port), noDelay: true });
        socket.once('connect', () => resolve(socket)).once('error', () => resolve(null));
      });
    });
    sockets.push(...(await Promise.all(batch)));
  }
  const connectMs = performance.now() - connectStart;

  // Before the clock: the listeners. They read t0, set just before the first write.
  const endMs = new Float64Array(n).fill(-1);
  const status = new Uint16Array(n); // 0: no response
  let left = n;
  let t0 = 0;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  for (let i = 0; i < n; i++) {
    const socket = sockets[i];
    if (!socket) continue;
    socket.once('data', (chunk: Buffer) => {
      endMs[i] = performance.now() - t0;
      // "HTTP/1.1 200": the status is bytes 9–11.
      status[i] = (chunk[9]! - 48) * 100 + (chunk[10]! - 48) * 10 + (chunk[11]! - 48);
      socket.destroy();
      if (--left === 0) finish();
    });
    // An error or a hang-up before any byte: no status.
    socket.once('close', () => {
      if (endMs[i]! >= 0) return;
      endMs[i] = performance.now() - t0;
      if (--left === 0) finish();
    });
    socket.on('error', () => {});
  }

  // The clock: only writes.
  t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const socket = sockets[i];
    if (socket) socket.write(requests[i]!);
    else {
      endMs[i] = 0;
      if (--left === 0) finish();
    }
  }
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    finish();
  }, timeoutMs);
  if (n > 0) await done;
  clearTimeout(deadline);
  const stoppedMs = performance.now() - t0;
  for (const socket of sockets) socket?.destroy();

  let totalMs = 0;
  const records = Array.from({ length: n }, (_, i) => {
    const ended = endMs[i]! >= 0;
    const end = ended ? endMs[i]! : stoppedMs; // never ended: counted until the deadline stopped the burst
    totalMs = Math.max(totalMs, end);
    const code = status[i]!;
    const error = code > 0 ? {} : { error: ended ? ('closed' as const) : ('timeout' as const) };
    return { id: i + 1, startMs: 0, endMs: end, status: code > 0 ? code : null, ...error };
  });
  if (timedOut) totalMs = Math.max(totalMs, stoppedMs);
  return { startedAt: t0, totalMs, connectMs, requests: records };
}
