/**
 * server.ts as a script's server: started in a child process with the options turned into its flags, its ready
 * line awaited, its /stats at hand; or, with --url, the one already running there (checked to answer, used as it
 * is, never stopped by us).
 *
 * Why `node --import tsx` and not `npx tsx`: npx and tsx's CLI each add a process in between, and a signal sent to
 * them does not always reach the server. Here the PID we hold is the process that serves, on Bun and Deno too
 * (./runtimes.ts).
 */
import { fileURLToPath } from 'node:url';
import type { ServerStats } from '../../../server/stats-window.ts';
import { DEFAULT_SETTINGS, settingsToArgs, type ServerSettings } from '../../../server/settings.ts';
import type { Runtime } from '../../../server/runtime.ts';
import { UserError } from '../core/outcomes.ts';
import { getJson, httpRequest } from '../client/http-get.ts';
import { startServerProcess, type ServerProcess } from './server-process.ts';
import { requireRuntime, serverCommand } from './runtimes.ts';

const SERVER_FILE = fileURLToPath(new URL('../../../server.ts', import.meta.url));
const READY_LINE = /listening on (http:\/\/\S+)/;

/**
 * What a script may set of the server: any of its settings (server/settings.ts, the one table), typed. The port is
 * always 0 (any free one, read back from the ready line) and the server quiet, so those two are not the caller's.
 */
export type ServerOptions = Partial<Omit<ServerSettings, 'port' | 'quiet'>>;

/** How the server is started, beside what it is started with. */
export interface LaunchOptions {
  /** The runtime that runs server.ts (default node); the client stays on Node. Missing here: a UserError saying why. */
  runtime?: Runtime;
  /** Variables added to the server's environment (e.g. UV_THREADPOOL_SIZE, read only at start). */
  env?: NodeJS.ProcessEnv;
  /** Give up waiting for the ready line after this long. */
  readyTimeoutMs?: number;
}

/** What a script knows of the settings of the server it fires at, and how it knows them. */
export interface KnownSettings {
  /** Its pool, its delay, its queue limit (beyond pool + queue, 503) and its processes. */
  settings: Pick<ServerSettings, 'poolSize' | 'delayMs' | 'queueLimit' | 'workers'>;
  /**
   * started: this script started it with them; stats: read back from its /stats; assumed: nothing said (not
   * server.ts, or an older one), so they are the script's flags, and the results say so.
   */
  settingsFrom: 'started' | 'stats' | 'assumed';
}

/** server.ts, started by this script: what every ServerProcess is, its settings, and its own /stats. */
export interface RunningServer extends ServerProcess, KnownSettings {
  /** Every setting it runs with (the defaults, and what the script gave). */
  settings: ServerSettings;
  /** The runtime it runs on, and that runtime's version. */
  runtime: Runtime;
  runtimeVersion: string;
  stats(): Promise<ServerStats>;
  /** Closes the server's measurement window (event-loop delay, arrivals) and returns its figures. */
  resetStats(): Promise<ServerStats>;
}

/**
 * What a script fires at: a server it started, or one already running (--url). Only server.ts has /stats;
 * on any other server (FastAPI, one started by hand elsewhere) stats and resetStats are absent.
 */
export interface TargetServer extends Partial<KnownSettings> {
  url: string;
  stats?(): Promise<ServerStats>;
  resetStats?(): Promise<ServerStats>;
  stop(graceMs?: number): Promise<void>;
  /** Whether anything still answers HTTP there (a server that died mid-run does not). */
  answers(): Promise<boolean>;
}

export async function startServer(options: ServerOptions = {}, launch: LaunchOptions = {}): Promise<RunningServer> {
  const settings: ServerSettings = { ...DEFAULT_SETTINGS, ...options, port: 0, quiet: true };
  const runtime = requireRuntime(launch.runtime ?? 'node');
  const command = serverCommand(runtime.runtime, SERVER_FILE, settingsToArgs({ ...options, port: 0, quiet: true }), settings);
  const server = await startServerProcess({
    name: runtime.runtime === 'node' ? 'the server' : `the server (on ${runtime.runtime})`,
    command: command.command,
    args: command.args,
    env: { ...process.env, ...command.env, ...launch.env },
    readyLine: READY_LINE,
    readyStream: 'stdout',
    readyTimeoutMs: launch.readyTimeoutMs ?? 60_000,
    parentWatch: 'ipc',
  });
  // The process's getters (exited, stopRequested) stay its own: the object is extended, not copied.
  return Object.assign(server, {
    settings,
    settingsFrom: 'started' as const,
    runtime: runtime.runtime,
    runtimeVersion: runtime.version,
    ...statsOf(server.url),
  });
}

/** server.ts's /stats and the reset of its window, at `url`. */
function statsOf(url: string): Pick<RunningServer, 'stats' | 'resetStats'> {
  return {
    stats: () => getJson<ServerStats>(`${url}/stats`),
    resetStats: () => getJson<ServerStats>(`${url}/stats/reset`, 'POST'),
  };
}

/**
 * A server already running at `url` (--url): checked to answer, its settings read back from its /stats where it is
 * server.ts (else `assumed`, the script's flags, said so), and never stopped by us — stop() does nothing, it is not ours.
 */
export async function useRunningServer(url: string, assumed: KnownSettings['settings']): Promise<TargetServer> {
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
  const base = {
    url: origin,
    stop: async () => {},
    answers: async () => !('error' in (await httpRequest(`${origin}/stats`, { timeoutMs: 2000 }))),
  };
  const read = answer.status === 200 ? settingsInStats(answer.body) : null;
  return read
    ? { ...base, settings: read, settingsFrom: 'stats', ...statsOf(origin) }
    : { ...base, settings: assumed, settingsFrom: 'assumed' };
}

/** server.ts's settings as its /stats gives them (a cluster's pool is the sum of its workers'), or null. */
export function settingsInStats(body: string): KnownSettings['settings'] | null {
  let stats: Partial<ServerStats> & { workers?: number };
  try {
    stats = JSON.parse(body) as typeof stats;
  } catch {
    return null;
  }
  const { poolSize, delayMs, queueLimit } = stats;
  if (typeof poolSize !== 'number' || typeof delayMs !== 'number' || typeof queueLimit !== 'number') return null;
  const workers = typeof stats.workers === 'number' ? stats.workers : 1;
  return { poolSize: poolSize / workers, delayMs, queueLimit: queueLimit / workers, workers };
}
