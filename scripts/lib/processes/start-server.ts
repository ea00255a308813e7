/**
 * server.ts as a script's server: started in a child process with the options turned into its flags, its ready
 * line awaited, its /stats at hand; or, with --url, the one already running there (checked to answer, used as it
 * is, never stopped by us).
 *
 * Why `node --import tsx` and not `npx tsx`: npx and tsx's CLI each add a process in between, and a signal sent to
 * them does not always reach the server. Here the PID we hold is the process that serves.
 */
import { fileURLToPath } from 'node:url';
import type { ServerStats } from '../../../server/stats-window.ts';
import { DEFAULT_SETTINGS } from '../../../server/settings.ts';
import { UserError } from '../core/outcomes.ts';
import { getJson, httpRequest } from '../client/http-get.ts';
import { startServerProcess, type ServerProcess } from './server-process.ts';

const SERVER_FILE = fileURLToPath(new URL('../../../server.ts', import.meta.url));
const READY_LINE = /listening on (http:\/\/\S+)/;

export interface ServerOptions {
  poolSize?: number;
  delayMs?: number;
  queueLimit?: number;
  /** Any further flags for server.ts. */
  extraArgs?: string[];
  /** Variables added to the server's environment (e.g. UV_THREADPOOL_SIZE, read only at start). */
  env?: NodeJS.ProcessEnv;
  /** Give up waiting for the ready line after this long. */
  readyTimeoutMs?: number;
}

/** server.ts, started by this script: what every ServerProcess is, and its own /stats. */
export interface RunningServer extends ServerProcess {
  /** Its pool's queue limit (--queue): beyond the pool plus this many blocking requests, 503. */
  queueLimit: number;
  stats(): Promise<ServerStats>;
  /** Closes the server's measurement window (event-loop delay, arrivals) and returns its figures. */
  resetStats(): Promise<ServerStats>;
}

/**
 * What a script fires at: a server it started, or one already running (--url). Only server.ts has /stats;
 * on any other server (FastAPI, one started by hand elsewhere) stats and resetStats are absent.
 */
export interface TargetServer {
  url: string;
  /**
   * server.ts's pool queue: beyond its pool plus this many blocking requests at once it answers 503 (--queue);
   * absent where it is not server.ts, or not known.
   */
  queueLimit?: number;
  stats?(): Promise<ServerStats>;
  resetStats?(): Promise<ServerStats>;
  stop(graceMs?: number): Promise<void>;
  /** Whether anything still answers HTTP there (a server that died mid-run does not). */
  answers(): Promise<boolean>;
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const args = ['--port', '0', '--quiet'];
  if (options.poolSize !== undefined) args.push('--pool', String(options.poolSize));
  if (options.delayMs !== undefined) args.push('--delay-ms', String(options.delayMs));
  if (options.queueLimit !== undefined) args.push('--queue', String(options.queueLimit));
  args.push(...(options.extraArgs ?? []));

  const server = await startServerProcess({
    name: 'the server',
    command: process.execPath,
    args: ['--import', 'tsx', SERVER_FILE, ...args],
    env: { ...process.env, ...options.env },
    readyLine: READY_LINE,
    readyStream: 'stdout',
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    parentWatch: 'ipc',
  });
  // The process's getters (exited, stopRequested) stay its own: the object is extended, not copied.
  return Object.assign(server, { queueLimit: options.queueLimit ?? DEFAULT_SETTINGS.queueLimit, ...statsOf(server.url) });
}

/** server.ts's /stats and the reset of its window, at `url`. */
function statsOf(url: string): Pick<RunningServer, 'stats' | 'resetStats'> {
  return {
    stats: () => getJson<ServerStats>(`${url}/stats`),
    resetStats: () => getJson<ServerStats>(`${url}/stats/reset`, 'POST'),
  };
}

/**
 * A server already running at `url` (--url): checked to answer, its /stats used if it is server.ts, and
 * never stopped by us — stop() does nothing, it is not ours.
 */
export async function useRunningServer(url: string): Promise<TargetServer> {
  let origin: string;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:') throw new Error('not http');
    origin = parsed.origin;
  } catch {
    throw new UserError(`--url must be an http:// address such as http://127.0.0.1:8000, got "${url}".`, 2);
  }
  // Any HTTP answer means someone listens; a 404 just means it is not server.ts.
  const answer = await httpRequest(`${origin}/stats`, { timeoutMs: 5000 });
  if ('error' in answer) {
    throw new UserError(`nothing answers at ${origin} (${answer.error}): start the server first, e.g. npx tsx server.ts.`);
  }
  const queueLimit = answer.status === 200 ? /"queueLimit":\s*(\d+)/.exec(answer.body)?.[1] : undefined;
  const base = {
    url: origin,
    stop: async () => {},
    answers: async () => !('error' in (await httpRequest(`${origin}/stats`, { timeoutMs: 2000 }))),
  };
  return queueLimit !== undefined ? { ...base, queueLimit: Number(queueLimit), ...statsOf(origin) } : base;
}
