/**
 * Which runtime runs this server (Node, Bun or Deno run server.ts unchanged), and the pool each one hides: where it
 * runs async crypto.pbkdf2, async fs and dns.lookup. Node runs them on libuv's threadpool; Bun and Deno do not use
 * libuv for them, and size their own pools by their own rules. /stats says which, so a client models with the pool
 * the server really has.
 */
import { availableParallelism } from 'node:os';
import { libuvThreadpoolSize } from './libuv.ts';

export const RUNTIMES = ['node', 'bun', 'deno'] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** The pool a runtime runs async crypto, fs and dns.lookup on, as it sizes it. */
export interface HiddenPool {
  /** What it is, in the runtime's own words. */
  name: string;
  /** How many threads it runs at most: the P of its waves (Deno's grows to it on demand). */
  maxThreads: number;
  /** Whether it starts all its threads at once (Node) or grows them on demand up to maxThreads (Bun, Deno). */
  grows: boolean;
  /** The name its threads carry in /proc/<pid>/task/<tid>/comm, counted from outside; null where unnamed (Node). */
  threadName: string | null;
  /** What sets its size, and how to change it. */
  sizedBy: string;
}

/** This process's runtime and its version (Bun and Deno also report a Node version: they are not Node). */
export function currentRuntime(): { runtime: Runtime; runtimeVersion: string } {
  const versions = process.versions as NodeJS.ProcessVersions & { bun?: string; deno?: string };
  if (versions.bun) return { runtime: 'bun', runtimeVersion: versions.bun };
  if (versions.deno) return { runtime: 'deno', runtimeVersion: versions.deno };
  return { runtime: 'node', runtimeVersion: process.versions.node };
}

/** The hidden pool of `runtime` in this environment (each reads it once, at start). */
export function hiddenPool(runtime: Runtime, env: NodeJS.ProcessEnv = process.env): HiddenPool {
  if (runtime === 'bun') {
    // Checked against Bun 1.4.5's "Bun Pool N" threads: UV_THREADPOOL_SIZE when it is 2 or more, else GOMAXPROCS
    // when it is 2 or more, else the cores, and never fewer than 2 (UV_THREADPOOL_SIZE=1 gives 2 threads).
    const atLeastTwo = (raw: string | undefined) => {
      const n = Number.parseInt(raw ?? '', 10);
      return Number.isFinite(n) && n >= 2 ? n : null;
    };
    const threads = atLeastTwo(env.UV_THREADPOOL_SIZE) ?? atLeastTwo(env.GOMAXPROCS) ?? availableParallelism();
    return {
      name: "Bun's work pool",
      maxThreads: Math.min(1024, Math.max(2, threads)),
      grows: true,
      threadName: 'Bun Pool',
      sizedBy: 'UV_THREADPOOL_SIZE when 2 or more, else GOMAXPROCS when 2 or more, else the cores; never fewer than 2',
    };
  }
  if (runtime === 'deno') {
    // Deno runs these ops with tokio's spawn_blocking, on a runtime built with max_blocking_threads(32) (Linux and
    // macOS); idle threads end after tokio's 10 s keep-alive.
    return {
      name: "tokio's blocking pool",
      maxThreads: 32,
      grows: true,
      threadName: 'tokio-runtime-w', // tokio-runtime-worker, cut to the kernel's 15 characters
      sizedBy: 'nothing: it grows on demand to 32 threads (no variable changes it); idle ones end after 10 s',
    };
  }
  return {
    name: "libuv's threadpool",
    maxThreads: libuvThreadpoolSize(env),
    grows: false,
    threadName: null,
    sizedBy: 'UV_THREADPOOL_SIZE (1 to 1024, 4 when unset), read once when the process starts',
  };
}
