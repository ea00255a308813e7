/**
 * The server's settings: each a flag with an environment twin, a default, and a clear refusal of a bad value.
 * Separate from server.ts so the routes read like the blog's app.py, and so tests can parse settings without
 * starting anything.
 */
import { parseArgs } from 'node:util';

export interface ServerSettings {
  host: string;
  port: number;
  /** Threads in the pool. */
  poolSize: number;
  /** How long each endpoint waits, in ms. */
  delayMs: number;
  /** Blocking tasks that may wait for a free thread; beyond it the server answers 503. */
  queueLimit: number;
  /** Iterations of the CPU-bound experiment's hash loop (~7 ns each on a 2020s server core). */
  cpuIterations: number;
  /** pbkdf2-sha512 iterations of one /hash-test or /hash-pool-test request. */
  hashIterations: number;
  /** After SIGINT/SIGTERM, how long in-flight requests may go on before their tasks are ended. */
  shutdownGraceMs: number;
  /** Processes serving on the one port (node:cluster), each with its own event loop and pool: uvicorn --workers. */
  workers: number;
  /** No START/END line per request. */
  quiet: boolean;
  /** Adds /fault-test/throw and /fault-test/exit, pool tasks that fail on purpose. Off unless asked for. */
  faultRoutes: boolean;
  /** The slow API /upstream-test calls (another server.ts, say); null: the route answers 503. */
  upstreamUrl: string | null;
  /** The PostgreSQL /db-test queries; null: the route answers 503. */
  databaseUrl: string | null;
  /** Connections in node-postgres' pool; null: the driver's own default (10). */
  dbPoolSize: number | null;
  /** How long a new database connection may take to be accepted before /db-test answers 503. */
  dbConnectTimeoutMs: number;
}

export const DEFAULT_SETTINGS: ServerSettings = {
  host: '127.0.0.1',
  port: 8000,
  // 40 is FastAPI's number, not ours: FastAPI runs every `def` endpoint through
  // starlette.concurrency.run_in_threadpool → anyio.to_thread.run_sync, whose default limiter is
  // CapacityLimiter(40). That limit, not Python's ThreadPoolExecutor default, is why the blog's
  // 100 sync requests take 3 waves (40 + 40 + 20) = 9 s. (A Node server of your own would size a pool for
  // CPU work near the cores, and wait on the event loop instead: see the README.)
  poolSize: 40,
  delayMs: 3000,
  // Enough for the blog's bursts and the sweeps (N ≤ 200 sync) with room to spare; a burst beyond it is
  // answered 503 at once, like uvicorn's --limit-concurrency, instead of growing memory without bound.
  queueLimit: 1000,
  // About 200 ms of work on this project's 2-core test machine; scripts/cpu-bound.ts calibrates its own.
  cpuIterations: 30_000_000,
  // About 190 ms of one core on this project's 2-core test machine; scripts/libuv-pool.ts calibrates its own.
  hashIterations: 500_000,
  // uvicorn waits for in-flight requests (--timeout-graceful-shutdown); a blocked thread cannot be told to
  // hurry, so after this long its task is ended and its request answered 503.
  shutdownGraceMs: 2000,
  // uvicorn's default, and the blog's command line: one process.
  workers: 1,
  quiet: false,
  faultRoutes: false,
  upstreamUrl: null,
  databaseUrl: null,
  // node-postgres' own default, as FastAPI's 40 is anyio's: the pool nobody configured.
  dbPoolSize: null,
  // Only opening a connection; a query waiting in the pool's queue for a free one waits as long as it must.
  dbConnectTimeoutMs: 5000,
};

export const USAGE = `Usage: npx tsx server.ts [options]

  --host HOST        address to bind (env HOST, default ${DEFAULT_SETTINGS.host})
  --port PORT        port, 0 = any free port (env PORT, default ${DEFAULT_SETTINGS.port})
  --pool N           worker threads for /sync-test (env POOL_SIZE, default ${DEFAULT_SETTINGS.poolSize}, FastAPI's limit)
  --delay-ms MS      how long each endpoint waits (env DELAY_MS, default ${DEFAULT_SETTINGS.delayMs})
  --queue N          blocking tasks allowed to wait for a thread; beyond it 503 (env QUEUE_LIMIT, default ${DEFAULT_SETTINGS.queueLimit})
  --cpu-iterations N work per /cpu-*-test request (env CPU_ITERATIONS, default ${DEFAULT_SETTINGS.cpuIterations})
  --hash-iterations N  pbkdf2 iterations per /hash-test and /hash-pool-test request (env HASH_ITERATIONS, default ${DEFAULT_SETTINGS.hashIterations})
  --shutdown-grace-ms MS  after SIGINT/SIGTERM, how long in-flight requests may finish (env SHUTDOWN_GRACE_MS, default ${DEFAULT_SETTINGS.shutdownGraceMs})
  --workers K        K processes through node:cluster, each with its own event loop and pool of --pool threads,
                     like uvicorn --workers K (env WORKERS, default ${DEFAULT_SETTINGS.workers})
  --upstream-url URL the slow API /upstream-test calls, e.g. another server.ts (env UPSTREAM_URL; without it 503)
  --database-url URL the PostgreSQL /db-test queries, postgres://… (env DATABASE_URL; without it 503)
  --db-pool N        connections in node-postgres' pool (env DB_POOL_SIZE, default: the driver's, 10)
  --db-connect-timeout-ms MS  how long a new database connection may take (env DB_CONNECT_TIMEOUT_MS, default ${DEFAULT_SETTINGS.dbConnectTimeoutMs})
  --quiet            no START/END line per request (env QUIET=1)
  --fault-routes     add /fault-test/throw and /fault-test/exit, for tests (env FAULT_ROUTES=1)
  -h, --help         this text

Prints "listening on http://HOST:PORT" once it listens and every pool thread is warm.`;

/** Thrown for a setting the user got wrong: the message is one sentence meant for them. */
export class SettingsError extends Error {}

const INTEGER_SETTINGS = {
  port: { flag: 'port', env: 'PORT', min: 0, max: 65535 },
  poolSize: { flag: 'pool', env: 'POOL_SIZE', min: 1, max: 1024 },
  delayMs: { flag: 'delay-ms', env: 'DELAY_MS', min: 0, max: 3_600_000 },
  queueLimit: { flag: 'queue', env: 'QUEUE_LIMIT', min: 0, max: 1_000_000 },
  cpuIterations: { flag: 'cpu-iterations', env: 'CPU_ITERATIONS', min: 1, max: 100_000_000_000 },
  hashIterations: { flag: 'hash-iterations', env: 'HASH_ITERATIONS', min: 1, max: 4_294_967_295 },
  shutdownGraceMs: { flag: 'shutdown-grace-ms', env: 'SHUTDOWN_GRACE_MS', min: 0, max: 600_000 },
  workers: { flag: 'workers', env: 'WORKERS', min: 1, max: 256 },
  dbPoolSize: { flag: 'db-pool', env: 'DB_POOL_SIZE', min: 1, max: 10_000 },
  dbConnectTimeoutMs: { flag: 'db-connect-timeout-ms', env: 'DB_CONNECT_TIMEOUT_MS', min: 1, max: 600_000 },
} as const;

/** URLs, each checked for the schemes it may have; never echoed back (a database URL holds a password). */
const URL_SETTINGS = {
  upstreamUrl: { flag: 'upstream-url', env: 'UPSTREAM_URL', schemes: ['http:', 'https:'], example: 'http://127.0.0.1:8001' },
  databaseUrl: { flag: 'database-url', env: 'DATABASE_URL', schemes: ['postgres:', 'postgresql:'], example: 'postgres://user:password@127.0.0.1:5432/db' },
} as const;

/** Flags win over environment variables, which win over the defaults. Returns null when --help was asked. */
export function parseServerSettings(argv: string[], env: NodeJS.ProcessEnv = {}): ServerSettings | null {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        host: { type: 'string' },
        ...Object.fromEntries([...Object.values(INTEGER_SETTINGS), ...Object.values(URL_SETTINGS)].map(({ flag }) => [flag, { type: 'string' as const }])),
        quiet: { type: 'boolean' },
        'fault-routes': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new SettingsError(`${(error as Error).message.replace(/\. To specify.*$/s, '')}. See --help.`);
  }
  if (values.help) return null;

  const settings = { ...DEFAULT_SETTINGS };
  for (const [key, spec] of Object.entries(INTEGER_SETTINGS)) {
    const flagValue = values[spec.flag] as string | undefined;
    const raw = flagValue ?? env[spec.env];
    if (raw === undefined || raw === '') continue;
    const source = flagValue !== undefined ? `--${spec.flag}` : spec.env;
    settings[key as keyof typeof INTEGER_SETTINGS] = parseIntegerSetting(source, raw, spec.min, spec.max);
  }
  for (const [key, spec] of Object.entries(URL_SETTINGS)) {
    const flagValue = values[spec.flag] as string | undefined;
    const raw = flagValue ?? env[spec.env];
    if (raw === undefined || raw === '') continue;
    settings[key as keyof typeof URL_SETTINGS] = parseUrlSetting(flagValue !== undefined ? `--${spec.flag}` : spec.env, raw, spec);
  }
  const host = (values.host as string | undefined) ?? env.HOST;
  if (host !== undefined) {
    if (host.trim() === '') throw new SettingsError('--host must not be empty.');
    settings.host = host;
  }
  settings.quiet = (values.quiet as boolean | undefined) ?? isSet(env.QUIET);
  settings.faultRoutes = (values['fault-routes'] as boolean | undefined) ?? isSet(env.FAULT_ROUTES);
  return settings;
}

function isSet(envValue: string | undefined): boolean {
  return ['1', 'true', 'yes'].includes(envValue ?? '');
}

function parseUrlSetting(source: string, raw: string, spec: { schemes: readonly string[]; example: string }): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new SettingsError(`${source} is not a URL; give one like ${spec.example}.`);
  }
  if (!spec.schemes.includes(url.protocol) || url.hostname === '') {
    throw new SettingsError(`${source} must be a ${spec.schemes.map((s) => `${s}//`).join(' or ')} URL with a host, like ${spec.example}.`);
  }
  return raw.trim();
}

function parseIntegerSetting(source: string, raw: string, min: number, max: number): number {
  const value = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new SettingsError(`${source} must be a whole number from ${min} to ${max}, got "${raw}".`);
  }
  return value;
}
