/**
 * PgBouncer in front of a PostgreSQL, started and stopped by the script as PostgreSQL is: Debian's `pgbouncer`
 * (apt-get install pgbouncer), its own config in a temporary folder (a free port on 127.0.0.1, its own unix socket
 * folder, pidfile, logfile, and an auth_file with the role's password), run in the foreground as the `postgres` user
 * when we are root (it refuses root), and watched so it dies with the script, even after a SIGKILL
 * (./background-service.ts). Where it is not installed, or cannot run, the caller is told why and skips.
 *
 * The pooler of the experiment in its common production shape: transaction mode (a server connection is lent to a
 * client for one transaction, so K · P client connections share a few server ones), PgBouncer's default pool of 20
 * server connections, and max_client_conn raised to what the experiment opens (its default, 100, is below K · P).
 * What was measured setting it up (PgBouncer 1.18, Debian 12):
 *  - A port taken between our asking and its binding is only a WARNING to it ("cannot listen on"): it comes up on
 *    its unix socket alone. So ready means both `listening on 127.0.0.1:PORT` and `process up`, and a port taken is
 *    tried again with another.
 *  - It logs in to PostgreSQL only when a query needs a server connection, and opens them one by one as clients
 *    wait: a first burst would measure that. Ready also means its whole pool is open (warmed here, as server.ts
 *    warms its own pool before its ready line).
 *  - After a failed login it waits server_login_retry (15 s by default) before trying again: set to 1 s here, so a
 *    database full for a moment costs a moment.
 *  - Nothing in it reacts to its parent dying: after a SIGKILL of the script it was reparented and kept serving,
 *    until the watchdog.
 */
import { existsSync } from 'node:fs';
import { chown, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';
import { stopAfterServers } from './cleanup.ts';
import { freePort, lastLine, noteServicePid, runAsUser, runUntil, watchService, type OsUser } from './background-service.ts';

export interface PgBouncerOptions {
  /** The PostgreSQL behind it, as the role it logs in as (clients use the same role and password through it). */
  databaseUrl: string;
  /** Server connections per database and role (default_pool_size): PgBouncer's own default is 20. */
  poolSize?: number;
  /** Client connections it admits at once (max_client_conn); beyond them it refuses. */
  maxClientConn: number;
}

export interface PgBouncer {
  /** The same role and database, through PgBouncer. */
  url: string;
  pid: number;
  /** `SHOW VERSION`, e.g. "PgBouncer 1.18.0". */
  version: string;
  poolMode: 'transaction';
  /** Server connections it opens at most: the pool that sets the waves behind it. */
  poolSize: number;
  maxClientConn: number;
  /** Its pool now (SHOW POOLS): client connections active and waiting, server connections open. */
  pools(): Promise<{ clientsActive: number; clientsWaiting: number; serverConnections: number }>;
  /**
   * The PostgreSQL backends of its server connections (SHOW SERVERS' remote_pid): they stay open between clients, so
   * whoever waits for a stopped server's connections to be gone must not wait for these.
   */
  serverBackends(): Promise<number[]>;
  stop(): Promise<void>;
}

/** PgBouncer's own default_pool_size. */
export const PGBOUNCER_DEFAULT_POOL = 20;

const HOW_TO_INSTALL = 'install it with `apt-get install pgbouncer`';

/** Started, warm and answering; or one sentence saying why there is none (the caller then skips its part). */
export async function startPgBouncer(options: PgBouncerOptions): Promise<PgBouncer | { unavailable: string }> {
  const binary = findPgBouncer();
  if (!binary)
    return { unavailable: `PgBouncer is not installed here (no pgbouncer on the PATH or in /usr/sbin): ${HOW_TO_INSTALL}` };
  try {
    return await start(binary, options);
  } catch (error) {
    return { unavailable: `PgBouncer could not start here (${(error as Error).message})` };
  }
}

/** Where its binary is, or null where it is not installed. */
export function findPgBouncer(): string | null {
  // Debian puts it in /usr/sbin, which is not on an ordinary user's PATH.
  const folders = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  return folders.map((folder) => join(folder, 'pgbouncer')).find((path) => path.startsWith('/') && existsSync(path)) ?? null;
}

async function start(binary: string, options: PgBouncerOptions): Promise<PgBouncer> {
  const target = new URL(options.databaseUrl);
  const role = decodeURIComponent(target.username);
  const password = decodeURIComponent(target.password);
  const database = decodeURIComponent(target.pathname.slice(1)) || role;
  const poolSize = options.poolSize ?? PGBOUNCER_DEFAULT_POOL;
  // Its folder: config, auth_file (the password in plain text, so it can answer SCRAM), socket, pidfile, log.
  const base = await mkdtemp(join(tmpdir(), 'pgbouncer-'));
  const stop = watchService(base, 'TERM'); // SIGTERM is an immediate shutdown to PgBouncer; SIGINT waits for clients
  const forget = stopAfterServers(stop);
  try {
    const user = await runAsUser();
    if (user) await chown(base, user.uid, user.gid);
    const authFile = join(base, 'userlist.txt');
    await writeOwned(authFile, `${quoted(role)} ${quoted(password)}\n`, user);
    // A free port can be taken between our asking and PgBouncer binding it: try a few.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      let pid = 0;
      const config = join(base, 'pgbouncer.ini');
      await writeOwned(config, configText({ target, database, port, base, authFile, role, poolSize, options }), user);
      const started = await runUntil(binary, [config], user, {
        ready: (said) => said.includes(`listening on 127.0.0.1:${port}`) && /process up/.test(said),
        failed: /cannot listen on/,
        spawned: (spawned) => {
          pid = spawned;
          noteServicePid(base, spawned);
        },
      });
      if (started !== true) {
        if (attempt < 3 && /cannot listen on|already in use/i.test(started)) continue;
        throw new Error(lastLine(started) || 'pgbouncer exited while starting');
      }
      const url = withPort(target, port);
      const admin = withPort(target, port, 'pgbouncer');
      const [{ version }] = (await adminQuery(admin, 'SHOW VERSION')) as [{ version: string }];
      const bouncer: PgBouncer = {
        url,
        pid,
        version,
        poolMode: 'transaction',
        poolSize,
        maxClientConn: options.maxClientConn,
        pools: () => pools(admin, database),
        serverBackends: async () =>
          ((await adminQuery(admin, 'SHOW SERVERS')) as { remote_pid: string }[]).map((row) => Number(row.remote_pid)),
        stop: () => {
          forget();
          return stop();
        },
      };
      await warm(bouncer);
      return bouncer;
    }
  } catch (error) {
    forget();
    await stop();
    throw error;
  }
}

function configText(c: {
  target: URL;
  database: string;
  port: number;
  base: string;
  authFile: string;
  role: string;
  poolSize: number;
  options: PgBouncerOptions;
}): string {
  const settings: Record<string, string | number> = {
    listen_addr: '127.0.0.1',
    listen_port: c.port,
    unix_socket_dir: c.base,
    pidfile: join(c.base, 'pgbouncer.pid'),
    logfile: join(c.base, 'pgbouncer.log'),
    auth_type: 'scram-sha-256',
    auth_file: c.authFile,
    // The role may read SHOW POOLS on the admin console (database `pgbouncer`): how warm the pool is.
    admin_users: c.role,
    pool_mode: 'transaction',
    default_pool_size: c.poolSize,
    max_client_conn: c.options.maxClientConn,
    server_login_retry: 1,
    // One line per client connection would be K · P lines per server start, read and thrown away.
    log_connections: 0,
    log_disconnections: 0,
  };
  return [
    '[databases]',
    `${c.database} = host=${c.target.hostname} port=${c.target.port || 5432} dbname=${c.database}`,
    '',
    '[pgbouncer]',
    ...Object.entries(settings).map(([key, value]) => `${key} = ${value}`),
    '',
  ].join('\n');
}

/**
 * Opens every server connection of its pool: as many clients as the pool, each holding a short sleep so they
 * overlap and PgBouncer lends each its own server connection, until SHOW POOLS counts the whole pool open. It opens a
 * few more in each round (8, 12, 15, 17, 19, 20 here: six rounds, about a second), never the whole pool at once.
 */
async function warm(bouncer: PgBouncer): Promise<void> {
  const clients = Array.from({ length: bouncer.poolSize }, () => new pg.Client({ connectionString: bouncer.url }));
  try {
    await Promise.all(clients.map((client) => client.connect()));
    for (let round = 0; round < 20; round++) {
      await Promise.all(clients.map((client) => client.query('SELECT pg_sleep(0.05)')));
      if ((await bouncer.pools()).serverConnections >= bouncer.poolSize) return;
    }
    throw new Error(
      `its pool of ${bouncer.poolSize} did not fill: ${(await bouncer.pools()).serverConnections} server connections open`,
    );
  } finally {
    await Promise.all(clients.map((client) => client.end().catch(() => {})));
  }
}

async function pools(admin: string, database: string) {
  const rows = (await adminQuery(admin, 'SHOW POOLS')) as Record<string, string>[];
  const row = rows.find((r) => r.database === database);
  const n = (key: string) => Number(row?.[key] ?? 0);
  return {
    clientsActive: n('cl_active'),
    clientsWaiting: n('cl_waiting'),
    serverConnections: n('sv_active') + n('sv_idle') + n('sv_used') + n('sv_tested') + n('sv_login'),
  };
}

/** The admin console speaks only the simple query protocol: a query without parameters. */
async function adminQuery(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

async function writeOwned(path: string, text: string, user: OsUser | null): Promise<void> {
  await writeFile(path, text, { mode: 0o600 });
  if (user) await chown(path, user.uid, user.gid);
}

function withPort(target: URL, port: number, database?: string): string {
  const url = new URL(target.href);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  if (database) url.pathname = `/${database}`;
  return url.href;
}

/** auth_file's quoting: a double quote inside is doubled. */
const quoted = (text: string) => `"${text.replaceAll('"', '""')}"`;
