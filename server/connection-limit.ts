/**
 * K processes × a database pool of P against what PostgreSQL allows the role: the arithmetic the primary of
 * `--workers K` does at start, and says once, before the ready line, where the connections wanted exceed it. Each
 * worker's pool is its own (node-postgres knows nothing of the others), so K · P is what the group wants, and the
 * most common way a chain breaks in production is that nobody did this sum.
 *
 * Behind a pooler (--pooler pgbouncer) the sum is the pooler's: the K · P connections go to it, not to PostgreSQL,
 * and share its own pool of server connections. PostgreSQL's limit then applies to that pool, which the server cannot
 * see; what it can see is whether the pooler admitted every client connection (PgBouncer's max_client_conn).
 */
import pg from 'pg';
import type { ServerSettings } from './settings.ts';

/** How many connections PostgreSQL lets the server's role open, read before the workers open theirs. */
export interface ConnectionAllowance {
  maxConnections: number;
  /** Slots kept for superusers (superuser_reserved_connections) and, from PostgreSQL 16, reserved_connections. */
  reserved: number;
  /** Client connections open already (other applications, other servers), which hold slots too. */
  inUse: number;
  /** The role's own CONNECTION LIMIT, where one is set. */
  roleLimit: number | null;
  /** What is left for this role: max_connections − reserved − in use (a superuser may use the reserved slots). */
  allowed: number;
}

/** node-postgres' pool size where --db-pool is not given (pg-pool's `max` defaults to 10). */
export const DRIVER_DEFAULT_POOL = 10;

/**
 * How many connections each of K workers opens before it is ready: its whole pool where the K pools fit what the
 * database allows the role, else that allowance shared out evenly (the first workers one more where it does not
 * divide). Shared, because left to themselves the workers are unfair: each warms one connection at a time as soon as
 * it has started, so the first up take their whole pool and the last what is left, possibly nothing; and the primary
 * deals requests round-robin all the same, so the worker that got fewer refuses most of its share (4 workers × 40
 * on 97 slots: 40, 40, 17 and 0 refuse 33 of 100 requests; 25, 24, 24, 24 refuse 3). And side by side they can open
 * fewer than allowed: PostgreSQL gives a connection it is about to refuse a slot while it checks the role, so one
 * worker's attempt beyond the limit can make another's within it fail (6 of 7 here, once), and that worker stops
 * warming with a slot still free. With each worker warming only its share, no attempt at start goes beyond the limit.
 */
export function shareOut(workers: number, poolSize: number, allowance: ConnectionAllowance | null): number[] {
  if (allowance === null || workers * poolSize <= allowance.allowed) return Array(workers).fill(poolSize);
  const each = Math.floor(allowance.allowed / workers);
  return Array.from({ length: workers }, (_, k) => Math.min(poolSize, each + (k < allowance.allowed % workers ? 1 : 0)));
}

/** What a worker's pool opened before it said it was ready (Database.warm()). */
export interface WarmPool {
  open: number;
  poolSize: number;
  failure: string | null;
}

/**
 * Asks PostgreSQL, as the server's role, on one connection of its own (not counted). Null where it cannot be asked
 * (the database is down): the workers will say so themselves.
 */
export async function readConnectionAllowance(url: string, connectTimeoutMs: number): Promise<ConnectionAllowance | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
  client.on('error', () => {});
  try {
    await client.connect();
    const { rows } = await client.query(
      `SELECT current_setting('max_connections')::int AS max,
              current_setting('superuser_reserved_connections')::int
                + coalesce(current_setting('reserved_connections', true)::int, 0) AS reserved,
              (SELECT count(*)::int FROM pg_stat_activity
                 WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()) AS in_use,
              (SELECT count(*)::int FROM pg_stat_activity
                 WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND usename = current_user) AS role_in_use,
              r.rolsuper AS superuser, r.rolconnlimit AS role_limit
         FROM pg_roles r WHERE r.rolname = current_user`,
    );
    const row = rows[0] as {
      max: number;
      reserved: number;
      in_use: number;
      role_in_use: number;
      superuser: boolean;
      role_limit: number;
    };
    const reserved = row.superuser ? 0 : row.reserved;
    const roleLimit = row.role_limit >= 0 ? row.role_limit : null;
    const free = Math.max(0, row.max - reserved - row.in_use);
    const allowed = roleLimit === null ? free : Math.min(free, Math.max(0, roleLimit - row.role_in_use));
    return { maxConnections: row.max, reserved, inUse: row.in_use, roleLimit, allowed };
  } catch {
    return null;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * The primary's one statement, or null where every worker opened its whole pool and the sum fits: how many
 * connections K · P wanted, what the database (or the pooler) allows this role, and what each worker got (its share,
 * see shareOut). Each pool may still grow to P, and in a burst tries to: the database refuses those connections, and
 * the requests waiting for them are answered 503. A --db-pool of the share would make them wait instead, which the
 * statement gives.
 */
export function describeShortfall(
  settings: Pick<ServerSettings, 'workers' | 'dbPoolSize' | 'pooler'>,
  warmed: Map<number, WarmPool>,
  allowance: ConnectionAllowance | null,
): string | null {
  const pools = [...warmed.values()];
  const poolSize = pools[0]?.poolSize ?? settings.dbPoolSize ?? DRIVER_DEFAULT_POOL;
  const wanted = settings.workers * poolSize;
  const opened = pools.reduce((sum, pool) => sum + pool.open, 0);
  const beyond = settings.pooler === null && allowance !== null && wanted > allowance.allowed;
  if (opened >= wanted && !beyond) return null;
  const each = [...warmed].map(([pid, pool]) => `${pool.open} (${pid})`).join(', ');
  const sum = `${settings.workers} workers × --db-pool ${poolSize} = ${wanted} connections wanted`;
  const shared = settings.pooler === null && beyond ? ', shared out evenly' : '';
  const got = `the workers opened ${each}: ${opened} in all${shared}`;
  if (settings.pooler !== null) {
    const reason = pools.find((pool) => pool.failure)?.failure;
    return (
      `database: ${sum} from ${settings.pooler} (--pooler), which admitted ${opened}${reason ? ` (${reason})` : ''}; ${got}. ` +
      `Raise its max_client_conn above ${wanted}: the connections beyond it are refused, requests on them answered 503.`
    );
  }
  const limit =
    allowance === null
      ? 'PostgreSQL could not be asked what it allows this role'
      : `PostgreSQL allows this role ${allowance.allowed} (max_connections ${allowance.maxConnections} − ${allowance.reserved} reserved − ${allowance.inUse} in use${allowance.roleLimit === null ? '' : `, its CONNECTION LIMIT ${allowance.roleLimit}`})`;
  const fair = allowance === null ? 0 : Math.floor(allowance.allowed / settings.workers);
  return (
    `database: ${sum}; ${limit}; ${got}. /db-test requests beyond a worker's connections are refused (503) while the ` +
    `database is full` +
    (fair > 0 ? `; --db-pool ${fair} (${allowance!.allowed} ÷ ${settings.workers}) would make them wait instead.` : '.')
  );
}
