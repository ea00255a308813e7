/**
 * Pools of a well-known default size: what a found P may be, and what to change. Given beside the measurement, never
 * instead of it: a P of 40 found behind a Java server is 40 whatever anyio's default is.
 */

interface KnownPool {
  size: number;
  what: string;
  change: string;
}

/** Matched on P exactly. */
const KNOWN_POOLS: KnownPool[] = [
  {
    size: 1,
    what: "one request at a time: gunicorn's default (one sync worker), uWSGI's single process, or an event loop blocked by synchronous work",
    change: 'more workers or threads (gunicorn --workers/--threads), or the blocking work off the event loop',
  },
  {
    size: 4,
    what: "libuv's threadpool (UV_THREADPOOL_SIZE), or waitress's 4 threads",
    change: 'UV_THREADPOOL_SIZE at start, or waitress --threads',
  },
  {
    size: 5,
    what: "php-fpm's pm.max_children (5 in Debian's www.conf), or Puma's 5 threads",
    change: "pm.max_children in the pool's .conf",
  },
  { size: 10, what: "node-postgres' pg.Pool (max 10)", change: "new Pool({ max }), below the database's max_connections" },
  { size: 15, what: "mod_wsgi's daemon process (15 threads)", change: 'WSGIDaemonProcess threads=' },
  {
    size: 40,
    what: "anyio's CapacityLimiter(40), which FastAPI and Starlette run every plain `def` endpoint through (and this suite's server.ts --pool, which copies it)",
    change: 'anyio.to_thread.current_default_thread_limiter().total_tokens, or make the endpoint `async def`',
  },
  { size: 150, what: "Apache's MaxRequestWorkers (150)", change: 'MaxRequestWorkers in mpm_event.conf' },
  { size: 200, what: "Tomcat's maxThreads (200; Spring Boot's server.tomcat.threads.max)", change: 'server.tomcat.threads.max' },
];

function known(size: number): KnownPool | undefined {
  return KNOWN_POOLS.find((k) => k.size === size);
}

function said(k: KnownPool): string {
  return `${k.size} is ${k.what}; to change it: ${k.change}`;
}

/** The hint for one pool of P, or undefined where P is no well-known default. */
export function hintFor(poolSize: number): string | undefined {
  const k = known(poolSize);
  return k && `${said(k)}.`;
}

/**
 * The hint for several processes, each with a pool of its own: one size for all ("2 processes × 40: 40 is …"), or
 * each size that is a well-known default where they differ. Never the sum as one pool: no process has it.
 */
export function hintForProcesses(pools: readonly number[]): string | undefined {
  const sizes = [...new Set(pools)];
  if (sizes.length === 1) {
    const k = known(sizes[0]!);
    return k && `${pools.length} processes × ${k.size}: ${said(k)}.`;
  }
  const hints = sizes.flatMap((size) => {
    const k = known(size);
    return k ? [said(k)] : [];
  });
  return hints.length > 0 ? `${pools.length} processes with pools of ${pools.join(', ')}: ${hints.join('; ')}.` : undefined;
}
