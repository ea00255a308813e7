/**
 * Node's own hidden pool: libuv's threadpool, which runs async crypto (pbkdf2, scrypt, randomBytes), every async
 * fs call, async zlib and dns.lookup. 4 threads unless UV_THREADPOOL_SIZE said otherwise when the process
 * started (libuv reads it once, when the pool first starts: under tsx that is before server.ts runs). Apart from
 * the routes because what these calls wait on is not the event loop and not our pool, and that is the lesson.
 * On Bun and Deno the same calls run on pools of their own (./runtime.ts): the routes are the same, the pool is not.
 */
import { pbkdf2 } from 'node:crypto';
import { closeSync, constants, lstatSync, open as openCallback, openSync, readdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Failure } from './answers.ts';

const NO_FIFOS = new Failure(
  503,
  'Service Unavailable: /fifo-test needs a folder of FIFOs; start the server with --fifo-dir (or FIFO_DIR)',
);

/** What libuv's threadpool was given at start: 4 when UV_THREADPOOL_SIZE is unset (libuv allows 1 to 1024). */
export function libuvThreadpoolSize(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.UV_THREADPOOL_SIZE;
  if (raw === undefined || raw.trim() === '') return 4;
  const n = Number.parseInt(raw, 10); // libuv reads it with atoi: "8abc" is 8, "abc" is 0 → 1
  return Math.min(1024, Math.max(1, Number.isFinite(n) ? n : 0));
}

export interface LibuvWork {
  /** An async password hash, pbkdf2-sha512: one task on libuv's threadpool, CPU-bound. */
  hash(iterations: number): Promise<void>;
  /** One small async read of an already open file: exactly one task on libuv's threadpool (readFile is several). */
  readFile(): Promise<void>;
  /**
   * Opens the next FIFO of --fifo-dir for reading (the k-th call since `rewindFifos` opens FIFO k): one task on the
   * hidden pool that blocks its thread in open(), burning no CPU, until a writer opens that FIFO. So the pool's size
   * shows as waves whatever the cores, on every runtime, and whoever made the FIFOs lets the readers go in the order
   * they came. No request names a file. A 503 without --fifo-dir, a 404 where FIFO k is not there.
   */
  openFifo(): Promise<Failure | undefined>;
  /** The next openFifo opens FIFO 1 again (a new measurement window). */
  rewindFifos(): void;
  /** Ends the work: a FIFO reader still blocked is let go first (a close queued behind it would never run). */
  close(): Promise<void>;
}

/** Opens the small file /file-test reads (this module's own source), so each read is one pool task, no open/close. */
export async function startLibuvWork(fifoDir: string | null): Promise<LibuvWork> {
  const file: FileHandle = await open(new URL(import.meta.url), 'r');
  // A thread blocked in open() cannot be joined: Node's exit would wait for it forever. However the process ends,
  // every reader is let go first.
  if (fifoDir !== null) process.once('exit', () => releaseEveryReader(fifoDir));
  let fifosOpened = 0;
  return {
    hash: (iterations) =>
      new Promise((resolve, reject) =>
        pbkdf2('password', 'salt', iterations, 64, 'sha512', (error) => (error ? reject(error) : resolve())),
      ),
    readFile: async () => {
      await file.read(Buffer.alloc(1024), 0, 1024, 0); // a buffer per read: reads may run side by side
    },
    openFifo: async () => {
      if (fifoDir === null) return NO_FIFOS;
      const k = ++fifosOpened;
      const path = join(fifoDir, String(k));
      if (!isFifo(path)) return new Failure(404, `Not Found: no FIFO ${k} in the server's --fifo-dir`);
      const fd = await new Promise<number>((resolve, reject) =>
        openCallback(path, 'r', (error, fd) => (error ? reject(error) : resolve(fd))),
      );
      // Closed at once on the event loop: an async close would be one more pool task, queued behind the blocked opens.
      closeSync(fd);
    },
    rewindFifos: () => {
      fifosOpened = 0;
    },
    close: async () => {
      if (fifoDir !== null) releaseEveryReader(fifoDir);
      await file.close();
    },
  };
}

function isFifo(path: string): boolean {
  try {
    return lstatSync(path).isFIFO(); // lstat: a link to elsewhere is not one
  } catch {
    return false;
  }
}

/**
 * A writer held open on every FIFO of the folder from now on (O_RDWR never blocks on Linux): every open() blocked on
 * one, or queued for one, returns at once. For the end of the process only; the descriptors go with it.
 */
function releaseEveryReader(fifoDir: string): void {
  for (const name of readdirSync(fifoDir)) {
    const path = join(fifoDir, name);
    if (isFifo(path)) openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  }
}
