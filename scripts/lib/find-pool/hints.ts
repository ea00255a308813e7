/**
 * Pools of a well-known default size: what a found P may be, and what to change. Given beside the measurement, never
 * instead of it: a P of 40 found behind a Java server is 40 whatever anyio's default is.
 */

interface KnownPool {
  size: number;
  what: string;
  change: string;
  /** Also P up to this many below size: a pool that keeps some of its threads for itself. */
  lessUpTo?: number;
}

/** Matched on P exactly (or up to lessUpTo below). Each says whose default it is, and what to change. */
const KNOWN_POOLS: KnownPool[] = [
  {
    size: 1,
    what: "one request at a time: gunicorn's default (one sync worker), Unicorn's worker_processes 1, uWSGI's single process, or an event loop blocked by synchronous work",
    change:
      "more workers or threads (gunicorn --workers/--threads, Unicorn's worker_processes), or the blocking work off the event loop",
  },
  {
    size: 3,
    what: "Puma's threads in the puma.rb Rails generates since 7.1 (RAILS_MAX_THREADS, 3 by default)",
    change: 'RAILS_MAX_THREADS, or threads in config/puma.rb (and the database pool with it)',
  },
  {
    size: 4,
    what: "libuv's threadpool (UV_THREADPOOL_SIZE), or waitress's 4 threads",
    change: 'UV_THREADPOOL_SIZE at start, or waitress --threads',
  },
  {
    size: 5,
    what: "php-fpm's pm.max_children (5 in Debian's www.conf), or Puma's 5 threads (its default max, one process)",
    change: "pm.max_children in the pool's .conf, or puma -t MIN:MAX (threads in puma.rb)",
  },
  {
    size: 10,
    what: "a database pool's default: node-postgres' pg.Pool (max 10), postgres.js (max 10), HikariCP (maximumPoolSize 10, Spring Boot's), Prisma 7 with adapter-pg",
    change:
      "new Pool({ max }), postgres({ max }), spring.datasource.hikari.maximum-pool-size; below the database's max_connections for all processes together",
  },
  { size: 15, what: "mod_wsgi's daemon process (15 threads)", change: 'WSGIDaemonProcess threads=' },
  {
    size: 20,
    what: "PgBouncer's default_pool_size (20 server connections per user and database)",
    change: 'default_pool_size in pgbouncer.ini',
  },
  {
    size: 25,
    what: "one Apache mpm_event (or mpm_worker) process's ThreadsPerChild",
    change: 'ThreadsPerChild and MaxRequestWorkers in mpm_event.conf',
  },
  {
    size: 40,
    what: "anyio's CapacityLimiter(40), which FastAPI and Starlette run every plain `def` endpoint through (and this suite's server.ts --pool, which copies it)",
    change: 'anyio.to_thread.current_default_thread_limiter().total_tokens, or make the endpoint `async def`',
  },
  { size: 150, what: "Apache's MaxRequestWorkers (150)", change: 'MaxRequestWorkers in mpm_event.conf' },
  {
    size: 200,
    what: "a servlet container's request threads: Tomcat's maxThreads (200; Spring Boot's server.tomcat.threads.max), or Jetty's QueuedThreadPool of 200, less the few its connector keeps for accepting and selecting",
    change: 'maxThreads on the Connector in server.xml (server.tomcat.threads.max), or jetty.threadPool.maxThreads',
    lessUpTo: 8,
  },
];

function known(size: number): KnownPool | undefined {
  return KNOWN_POOLS.find((k) => k.size === size) ?? KNOWN_POOLS.find((k) => size < k.size && size >= k.size - (k.lessUpTo ?? 0));
}

function said(k: KnownPool, size: number): string {
  const near = size === k.size ? `${size} is` : `${size} is close below ${k.size}:`;
  return `${near} ${k.what}; to change it: ${k.change}`;
}

/**
 * No limit up to the largest burst: what servers give where nothing counts (a goroutine per connection in Go's
 * net/http, an awaited call on an event loop), so the limit, if any, lies further on.
 */
export const NO_LIMIT_HINT =
  "nothing here counted the requests: Go's net/http serves each connection on a goroutine of its own, an event loop awaits without a thread; the limit, if there is one, is further on (the database's pool, the cores, a rate limit)";

/** The hint for one pool of P, or undefined where P is no well-known default. */
export function hintFor(poolSize: number): string | undefined {
  const k = known(poolSize);
  return k && `${said(k, poolSize)}.`;
}

/**
 * The hint for several processes, each with a pool of its own: one size for all ("2 processes × 40: 40 is …"), or
 * each size that is a well-known default where they differ. Never the sum as one pool: no process has it.
 */
export function hintForProcesses(pools: readonly number[]): string | undefined {
  const sizes = [...new Set(pools)];
  if (sizes.length === 1) {
    const k = known(sizes[0]!);
    return k && `${pools.length} processes × ${sizes[0]}: ${said(k, sizes[0]!)}.`;
  }
  const hints = sizes.flatMap((size) => {
    const k = known(size);
    return k ? [said(k, size)] : [];
  });
  return hints.length > 0 ? `${pools.length} processes with pools of ${pools.join(', ')}: ${hints.join('; ')}.` : undefined;
}
