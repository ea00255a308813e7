/**
 * The server's settings: each a flag with an environment twin, a default, and a clear refusal of a bad value.
 * Separate from server.ts so the routes read like the blog's app.py, and so tests can parse settings without
 * starting anything.
 *
 * About 300 lines, one job: the table of every setting is most of it, and it is the server's reference.
 */
import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { parseArgs } from 'node:util';
import { parseWholeNumber } from './numbers.ts';
import { DEFAULT_TASK_LOG_SIZE } from './task-log.ts';

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
  /**
   * What --database-url points at when it is not PostgreSQL itself: 'pgbouncer', a pooler whose pool the connections
   * share, so the start-up arithmetic is the pooler's (K · P against what it admits, not PostgreSQL's limit); null:
   * PostgreSQL.
   */
  pooler: Pooler | null;
  /** When a /db-test client hangs up: its query cancelled in PostgreSQL (on), or left to run to its end (off). */
  dbCancel: boolean;
  /** PostgreSQL's statement_timeout for each /db-test query, ms; past it a 504. null: no timeout. */
  dbTimeoutMs: number | null;
  /** Changes of the pool's and the database's tasks each process keeps for GET /stats/tasks. */
  taskLogSize: number;
  /**
   * The folder of FIFOs named 1, 2, … that /fifo-test opens, the k-th request since the last /stats/reset FIFO k (made
   * with mkfifo by whoever started the server, e.g. scripts/runtimes.ts); null: the route answers 503.
   */
  fifoDir: string | null;
}

/** The poolers --pooler knows. */
export const POOLERS = ['pgbouncer'] as const;
export type Pooler = (typeof POOLERS)[number];

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
  pooler: null,
  // A query nobody will read is work the database does for no one, holding a connection others queue for.
  dbCancel: true,
  // As node-postgres and PostgreSQL have it: a query runs as long as it runs.
  dbTimeoutMs: null,
  taskLogSize: DEFAULT_TASK_LOG_SIZE,
  fifoDir: null,
};

/** Thrown for a setting the user got wrong: the message is one sentence meant for them. */
export class SettingsError extends Error {}

type IntegerKey =
  | 'port'
  | 'poolSize'
  | 'delayMs'
  | 'queueLimit'
  | 'cpuIterations'
  | 'hashIterations'
  | 'shutdownGraceMs'
  | 'workers'
  | 'dbPoolSize'
  | 'dbConnectTimeoutMs'
  | 'dbTimeoutMs'
  | 'taskLogSize';
type UrlKey = 'upstreamUrl' | 'databaseUrl';
type SwitchKey = 'quiet' | 'faultRoutes';
type ChoiceKey = 'pooler';
/** A setting that is on by default: a switch can only turn something on, so these take `on` or `off`. */
type OnOffKey = 'dbCancel';
type FolderKey = 'fifoDir';

/** Every setting: its flag, its environment twin, what it accepts, and what --help says of it. One table for both. */
const SETTINGS: (
  | { key: 'host'; flag: string; env: string; value: string; help: string }
  | { key: IntegerKey; flag: string; env: string; value: string; help: string; min: number; max: number; defaultText?: string }
  | { key: UrlKey; flag: string; env: string; value: string; help: string; schemes: readonly string[]; example: string }
  | { key: SwitchKey; flag: string; env: string; help: string }
  | { key: ChoiceKey; flag: string; env: string; value: string; help: string; choices: readonly string[]; none: string }
  | { key: OnOffKey; flag: string; env: string; value: 'on|off'; onOff: true; help: string }
  | { key: FolderKey; flag: string; env: string; value: string; help: string; folder: true }
)[] = [
  { key: 'host', flag: 'host', env: 'HOST', value: 'HOST', help: 'address to bind' },
  { key: 'port', flag: 'port', env: 'PORT', value: 'PORT', help: 'port, 0 = any free port', min: 0, max: 65535 },
  {
    key: 'poolSize',
    flag: 'pool',
    env: 'POOL_SIZE',
    value: 'N',
    help: "worker threads for /sync-test; 40 is FastAPI's limit",
    min: 1,
    max: 1024,
  },
  {
    key: 'delayMs',
    flag: 'delay-ms',
    env: 'DELAY_MS',
    value: 'MS',
    help: 'how long each endpoint waits',
    min: 0,
    max: 3_600_000,
  },
  {
    key: 'queueLimit',
    flag: 'queue',
    env: 'QUEUE_LIMIT',
    value: 'N',
    help: 'blocking tasks allowed to wait for a thread; beyond it 503',
    min: 0,
    max: 1_000_000,
  },
  {
    key: 'cpuIterations',
    flag: 'cpu-iterations',
    env: 'CPU_ITERATIONS',
    value: 'N',
    help: 'work per /cpu-*-test request',
    min: 1,
    max: 100_000_000_000,
  },
  {
    key: 'hashIterations',
    flag: 'hash-iterations',
    env: 'HASH_ITERATIONS',
    value: 'N',
    help: 'pbkdf2 iterations per /hash-test and /hash-pool-test request',
    min: 1,
    max: 4_294_967_295,
  },
  {
    key: 'shutdownGraceMs',
    flag: 'shutdown-grace-ms',
    env: 'SHUTDOWN_GRACE_MS',
    value: 'MS',
    help: 'after SIGINT/SIGTERM, how long in-flight requests may finish',
    min: 0,
    max: 600_000,
  },
  {
    key: 'workers',
    flag: 'workers',
    env: 'WORKERS',
    value: 'K',
    help: 'K processes through node:cluster, each with its own event loop and pool of --pool threads, like uvicorn --workers K',
    min: 1,
    max: 256,
  },
  {
    key: 'upstreamUrl',
    flag: 'upstream-url',
    env: 'UPSTREAM_URL',
    value: 'URL',
    help: 'the slow API /upstream-test calls, e.g. another server.ts; without it 503',
    schemes: ['http:', 'https:'],
    example: 'http://127.0.0.1:8001',
  },
  {
    key: 'databaseUrl',
    flag: 'database-url',
    env: 'DATABASE_URL',
    value: 'URL',
    help: 'the PostgreSQL /db-test queries, postgres://…; without it 503',
    schemes: ['postgres:', 'postgresql:'],
    example: 'postgres://user:password@127.0.0.1:5432/db',
  },
  {
    key: 'dbPoolSize',
    flag: 'db-pool',
    env: 'DB_POOL_SIZE',
    value: 'N',
    help: "connections in node-postgres' pool",
    min: 1,
    max: 10_000,
    defaultText: "the driver's, 10",
  },
  {
    key: 'dbConnectTimeoutMs',
    flag: 'db-connect-timeout-ms',
    env: 'DB_CONNECT_TIMEOUT_MS',
    value: 'MS',
    help: 'how long a new database connection may take',
    min: 1,
    max: 600_000,
  },
  {
    key: 'pooler',
    flag: 'pooler',
    env: 'DB_POOLER',
    value: 'NAME',
    help: "what --database-url points at: a pooler's name (pgbouncer), so the start-up arithmetic is its",
    choices: POOLERS,
    none: 'none',
  },
  {
    key: 'dbCancel',
    flag: 'db-cancel',
    env: 'DB_CANCEL',
    value: 'on|off',
    onOff: true,
    help: 'when a /db-test client hangs up, cancel its query in PostgreSQL (off: it runs to its end, as node-postgres does)',
  },
  {
    key: 'dbTimeoutMs',
    flag: 'db-timeout-ms',
    env: 'DB_TIMEOUT_MS',
    value: 'MS',
    help: "PostgreSQL's statement_timeout for each /db-test query; past it 504",
    min: 1,
    max: 3_600_000,
    defaultText: 'none',
  },
  {
    key: 'taskLogSize',
    flag: 'task-log-size',
    env: 'TASK_LOG_SIZE',
    value: 'N',
    help: "changes of the pool's and the database's tasks kept per process for GET /stats/tasks",
    min: 1,
    max: 10_000_000,
  },
  {
    key: 'fifoDir',
    flag: 'fifo-dir',
    env: 'FIFO_DIR',
    value: 'DIR',
    help: 'a folder of FIFOs named 1, 2, … (mkfifo): the k-th /fifo-test since /stats/reset opens FIFO k, blocking a hidden-pool thread until a writer opens it; without it 503',
    folder: true,
  },
  { key: 'quiet', flag: 'quiet', env: 'QUIET', help: 'no START/END line per request' },
  {
    key: 'faultRoutes',
    flag: 'fault-routes',
    env: 'FAULT_ROUTES',
    help: 'add /fault-test/throw and /fault-test/exit, for tests',
  },
];

/** --help, from the table. */
export const USAGE = (() => {
  const rows = SETTINGS.map((setting) => {
    const flag = 'value' in setting ? `--${setting.flag} ${setting.value}` : `--${setting.flag}`;
    const fallback =
      'defaultText' in setting && setting.defaultText
        ? setting.defaultText
        : 'none' in setting
          ? (DEFAULT_SETTINGS[setting.key] ?? setting.none)
          : 'onOff' in setting
            ? onOff(DEFAULT_SETTINGS[setting.key])
            : DEFAULT_SETTINGS[setting.key];
    const twin = 'value' in setting ? `env ${setting.env}` : `env ${setting.env}=1`;
    const shown = 'value' in setting && fallback !== null ? `${twin}, default ${fallback}` : twin;
    return [flag, `${setting.help} (${shown})`];
  });
  rows.push(['-h, --help', 'this text']);
  const width = Math.max(...rows.map(([flag]) => flag!.length)) + 2;
  return [
    'Usage: npx tsx server.ts [options]',
    '',
    ...rows.map(([flag, text]) => `  ${flag!.padEnd(width)}${text}`),
    '',
    'Prints "listening on http://HOST:PORT" once it listens and every pool thread is warm.',
  ].join('\n');
})();

/**
 * The command line that gives a server these settings (the rest stay at their defaults): the one way scripts and
 * tests start server.ts with settings, typed, so no caller spells a flag. `parseServerSettings` of the result gives
 * the defaults with these applied (test/settings.test.ts holds the two to each other).
 */
export function settingsToArgs(settings: Partial<ServerSettings>): string[] {
  const args: string[] = [];
  for (const setting of SETTINGS) {
    const value = settings[setting.key];
    if (value === undefined) continue;
    if (!('value' in setting)) {
      if (value === true) args.push(`--${setting.flag}`);
    } else if ('onOff' in setting) {
      args.push(`--${setting.flag}`, onOff(value === true));
    } else if (value !== null) {
      args.push(`--${setting.flag}`, String(value));
    }
  }
  return args;
}

/** Flags win over environment variables, which win over the defaults. Returns null when --help was asked. */
export function parseServerSettings(argv: string[], env: NodeJS.ProcessEnv = {}): ServerSettings | null {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        ...Object.fromEntries(
          SETTINGS.map((setting) => [setting.flag, { type: 'value' in setting ? ('string' as const) : ('boolean' as const) }]),
        ),
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new SettingsError(`${(error as Error).message.replace(/\. To specify.*$/s, '')}. See --help.`);
  }
  if (values.help) return null;

  const settings = { ...DEFAULT_SETTINGS };
  for (const setting of SETTINGS) {
    const flagValue = values[setting.flag];
    if (!('value' in setting)) {
      settings[setting.key] = (flagValue as boolean | undefined) ?? isSet(env[setting.env]);
      continue;
    }
    const raw = (flagValue as string | undefined) ?? env[setting.env];
    if (raw === undefined || (raw === '' && setting.key !== 'host')) continue;
    const source = flagValue !== undefined ? `--${setting.flag}` : setting.env;
    if (setting.key === 'host') {
      if (raw.trim() === '') throw new SettingsError('--host must not be empty.');
      settings.host = raw;
    } else if ('schemes' in setting) {
      settings[setting.key] = parseUrlSetting(source, raw, setting);
    } else if ('choices' in setting) {
      settings[setting.key] = parseChoice(source, raw, setting);
    } else if ('onOff' in setting) {
      const said = raw.trim().toLowerCase();
      if (said !== 'on' && said !== 'off') throw new SettingsError(`${source} must be on or off, got "${raw}".`);
      settings[setting.key] = said === 'on';
    } else if ('folder' in setting) {
      settings[setting.key] = parseFolderSetting(source, raw);
    } else {
      const value = parseWholeNumber(raw, setting.min, setting.max);
      if (value === null)
        throw new SettingsError(`${source} must be a whole number from ${setting.min} to ${setting.max}, got "${raw}".`);
      settings[setting.key] = value;
    }
  }
  return settings;
}

function onOff(value: boolean): 'on' | 'off' {
  return value ? 'on' : 'off';
}

function isSet(envValue: string | undefined): boolean {
  return ['1', 'true', 'yes'].includes(envValue ?? '');
}

function parseChoice(source: string, raw: string, spec: { choices: readonly string[]; none: string }): Pooler | null {
  if (raw === spec.none) return null;
  if (!spec.choices.includes(raw))
    throw new SettingsError(`${source} must be one of ${[...spec.choices, spec.none].join(', ')}, got "${raw}".`);
  return raw as Pooler;
}

/** A folder's absolute path: where a route looks, and nowhere else. */
function parseFolderSetting(source: string, raw: string): string {
  if (!isAbsolute(raw)) throw new SettingsError(`${source} must be an absolute path to a folder, got "${raw}".`);
  let isFolder: boolean;
  try {
    isFolder = statSync(raw).isDirectory();
  } catch (error) {
    throw new SettingsError(`${source} ${raw}: ${(error as NodeJS.ErrnoException).code}.`);
  }
  if (!isFolder) throw new SettingsError(`${source} ${raw} is not a folder.`);
  return raw;
}

function parseUrlSetting(source: string, raw: string, spec: { schemes: readonly string[]; example: string }): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new SettingsError(`${source} is not a URL; give one like ${spec.example}.`);
  }
  if (!spec.schemes.includes(url.protocol) || url.hostname === '') {
    throw new SettingsError(
      `${source} must be a ${spec.schemes.map((s) => `${s}//`).join(' or ')} URL with a host, like ${spec.example}.`,
    );
  }
  return raw.trim();
}
