/**
 * Node's own hidden pool: libuv's threadpool, which runs async crypto (pbkdf2, scrypt, randomBytes), every async
 * fs call, async zlib and dns.lookup. 4 threads unless UV_THREADPOOL_SIZE said otherwise when the process
 * started (libuv reads it once, when the pool first starts: under tsx that is before server.ts runs). Apart from
 * the routes because what these calls wait on is not the event loop and not our pool, and that is the lesson.
 */
import { pbkdf2 } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';

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
  close(): Promise<void>;
}

/** Opens the small file /file-test reads (this module's own source), so each read is one pool task, no open/close. */
export async function startLibuvWork(): Promise<LibuvWork> {
  const file: FileHandle = await open(new URL(import.meta.url), 'r');
  return {
    hash: (iterations) =>
      new Promise((resolve, reject) =>
        pbkdf2('password', 'salt', iterations, 64, 'sha512', (error) => (error ? reject(error) : resolve())),
      ),
    readFile: async () => {
      await file.read(Buffer.alloc(1024), 0, 1024, 0); // a buffer per read: reads may run side by side
    },
    close: () => file.close(),
  };
}
