/**
 * startServer: runs server.ts in a child process and waits for its ready line.
 *
 * Why a child process: the client must not share the server's event loop, or every timer the client sets
 * would be delayed by the server's work and the other way round.
 * Why `node --import tsx` and not `npx tsx`: npx and tsx's CLI each add a process in between, and a signal
 * sent to them does not always reach the server. Here the PID we hold is the process that serves.
 *
 * Every server started here is stopped when the script ends: by its `stop()`, on SIGINT/SIGTERM, on exit,
 * and, through the IPC channel, by the server itself if this process dies without a word (SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { get as httpGet, request as httpRequest } from 'node:http';
import type { ServerStats } from '../../server/stats-window.ts';
import { DEFAULT_SETTINGS } from '../../server/settings.ts';
import { UserError } from './user-error.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVER_FILE = fileURLToPath(new URL('../../server.ts', import.meta.url));
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

export interface RunningServer {
  /** e.g. http://127.0.0.1:43121 — the real port, the server picked a free one. */
  url: string;
  pid: number;
  /** ms from spawning the process to its ready line (pool threads warm included). */
  startupMs: number;
  /** Its pool's queue limit (--queue): beyond the pool plus this many blocking requests, 503. */
  queueLimit: number;
  stats(): Promise<ServerStats>;
  /** Closes the server's measurement window (event-loop delay) and returns its figures. */
  resetStats(): Promise<ServerStats>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. Resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
  /** Exit code and signal once exited, else null. */
  readonly exited: ExitStatus | null;
  /** Resolves once the process has exited, however it was stopped. */
  readonly exit: Promise<ExitStatus>;
  /** Whether it still runs and answers HTTP. */
  answers(): Promise<boolean>;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
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

const running = new Set<ChildProcess>();

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
  return {
    ...server,
    get exited() {
      return server.exited;
    },
    queueLimit: options.queueLimit ?? DEFAULT_SETTINGS.queueLimit,
    ...statsOf(server.url),
  };
}

/** Any HTTP answer at `origin` (a 404 too) means someone listens; a connection error or silence means no one. */
export async function answersHttp(origin: string, timeoutMs = 5000): Promise<{ status: number; body: string } | string> {
  // node:http, not fetch: fetch refuses some ports outright that the burst client would reach.
  return new Promise((resolve) => {
    const request = httpGet(`${origin}/stats`, { timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (text: string) => (body += text));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', () => resolve('the answer was cut short'));
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error('timeout'), { code: `no answer within ${timeoutMs / 1000} s` })));
    request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
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
  const answer = await answersHttp(origin);
  if (typeof answer === 'string') {
    throw new UserError(`nothing answers at ${origin} (${answer}): start the server first, e.g. npx tsx server.ts.`);
  }
  const queueLimit = answer.status === 200 ? /"queueLimit":\s*(\d+)/.exec(answer.body)?.[1] : undefined;
  const base = { url: origin, stop: async () => {}, answers: async () => typeof (await answersHttp(origin, 2000)) !== 'string' };
  return queueLimit !== undefined ? { ...base, queueLimit: Number(queueLimit), ...statsOf(origin) } : base;
}

/** Any HTTP server as a child process: how to start it, and the line that says it is ready. */
export interface ServerProcessSpec {
  /** What messages call it: 'the server', 'uvicorn'. */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Printed once it is ready; its first group is the URL with the real port. */
  readyLine: RegExp;
  /** How many different ready lines make it ready (one per worker process); default 1. */
  readyCount?: number;
  readyStream: 'stdout' | 'stderr';
  readyTimeoutMs: number;
  /**
   * How the child learns that this process died without a word (SIGKILL): a Node child through the IPC
   * channel closing, any other through its stdin closing (it must exit on EOF, as reference/run_uvicorn.py does).
   */
  parentWatch: 'ipc' | 'stdin';
}

/** A started server process; RunningServer adds server.ts's own stats. */
export type ServerProcess = Omit<RunningServer, 'stats' | 'resetStats' | 'queueLimit'>;

export async function startServerProcess(spec: ServerProcessSpec): Promise<ServerProcess> {
  stopServersWhenThisProcessEnds();
  const spawnedAt = performance.now();
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd ?? PROJECT_ROOT,
    stdio: spec.parentWatch === 'ipc' ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['pipe', 'pipe', 'pipe'],
    env: spec.env ?? process.env,
  });
  running.add(child);
  let exited: RunningServer['exited'] = null;
  let spawnError = '';
  const exitedPromise = new Promise<void>((resolve) => {
    const ended = (code: number | null, signal: NodeJS.Signals | null) => {
      exited ??= { code, signal };
      running.delete(child);
      resolve();
    };
    child.once('exit', ended);
    // A command that cannot be started (ENOENT, EACCES) never exits: it ends here, reported by the ready wait.
    child.once('error', (error) => {
      spawnError = error.message;
      if (child.pid === undefined) ended(null, null);
    });
  });
  child.stdin?.on('error', () => {}); // the child may exit before it reads anything

  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-4000)));
  if (spec.readyStream === 'stderr') child.stdout!.resume(); // its stdout is not ours to read, only to drain

  const url = await waitForReadyLine(child, spec, exitedPromise, () => spawnError || stderr).catch(async (error: unknown) => {
    await stop(child, exitedPromise, 2000);
    throw error;
  });
  const startupMs = performance.now() - spawnedAt;

  return {
    url,
    pid: child.pid!,
    startupMs,
    get exited() {
      return exited;
    },
    exit: exitedPromise.then(() => exited!),
    stop: (graceMs = 8000) => stop(child, exitedPromise, graceMs),
    answers: async () => exited === null && typeof (await answersHttp(url, 2000)) !== 'string',
  };
}

function waitForReadyLine(
  child: ChildProcess,
  spec: ServerProcessSpec,
  exited: Promise<void>,
  stderr: () => string,
): Promise<string> {
  const { name, readyTimeoutMs: timeoutMs } = spec;
  const stream = spec.readyStream === 'stdout' ? child.stdout! : child.stderr!;
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: stream });
    const timer = setTimeout(
      () => reject(new UserError(`${name} did not print its ready line within ${timeoutMs / 1000} s.${tail(stderr())}`)),
      timeoutMs,
    );
    const seen = new Set<string>();
    lines.on('line', (line) => {
      const match = spec.readyLine.exec(line);
      if (match) seen.add(line);
      if (match && seen.size >= (spec.readyCount ?? 1)) {
        clearTimeout(timer);
        lines.removeAllListeners('line');
        stream.resume(); // keep draining anything it prints later
        resolve(match[1]!);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new UserError(`${name} exited before it was ready (exit code ${child.exitCode}).${tail(stderr())}`));
    });
  });
}

async function stop(child: ChildProcess, exited: Promise<void>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(killer);
}

/**
 * A JSON answer, or one sentence: a server that stopped answering is the user's to see, not a stack trace.
 * node:http with no agent, so the connection closes after the answer: asking for /stats must not leave a
 * connection open that the server would count among a burst's.
 */
function getJson<T>(url: string, method = 'GET'): Promise<T> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method, agent: false, timeout: 10_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (text: string) => (body += text));
      response.on('end', () => {
        if (response.statusCode !== 200) return reject(new UserError(`${method} ${url} answered ${response.statusCode}.`));
        try {
          resolve(JSON.parse(body) as T);
        } catch {
          reject(new UserError(`${method} ${url} did not answer JSON.`));
        }
      });
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error('no answer within 10 s'), { code: 'no answer within 10 s' })));
    request.on('error', (error: NodeJS.ErrnoException) =>
      reject(new UserError(`the server at ${new URL(url).origin} stopped answering (${error.code ?? error.message}).`)),
    );
    request.end();
  });
}

function tail(stderr: string): string {
  const lines = stderr.trim().split('\n').filter(Boolean);
  if (lines.length <= 1) return lines[0] ? ` It said: ${lines[0]}` : '';
  return ` Its last words:\n${lines.slice(-8).join('\n')}`;
}

/**
 * What the servers stand on and must outlive them (a database this process started): stopped after every
 * server, by stopAllServers. Returns a function that takes the entry back (once it was stopped by other means).
 */
const backing = new Set<() => Promise<void>>();
export function stopAfterServers(stop: () => Promise<void>): () => void {
  backing.add(stop);
  return () => backing.delete(stop);
}

/**
 * Stops every server this process started (SIGTERM, then SIGKILL after `graceMs`), then what they stood on;
 * resolves once all have exited.
 */
export async function stopAllServers(graceMs = 5000): Promise<void> {
  const children = [...running];
  const exits = children.map((child) => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve))));
  for (const child of children) child.kill('SIGTERM');
  const killer = setTimeout(() => children.forEach((child) => child.kill('SIGKILL')), graceMs);
  await Promise.all(exits);
  clearTimeout(killer);
  const stops = [...backing];
  backing.clear();
  await Promise.all(stops.map((stop) => stop().catch(() => {})));
}

/**
 * What SIGINT/SIGTERM do once a server has been started. By default: stop every server and exit as the signal
 * would have (130, 143). An experiment takes this over to keep what it measured first (./experiment.ts).
 */
let onSignal = (signal: NodeJS.Signals, exitCode: number) => {
  process.stderr.write(`\n${signal}: stopping ${running.size + backing.size} server(s) and exiting.\n`);
  void stopAllServers().then(() => process.exit(exitCode));
};
export function handleSignals(handler: (signal: NodeJS.Signals, exitCode: number) => void): void {
  onSignal = handler;
  stopServersWhenThisProcessEnds();
}

let cleanupInstalled = false;

/** On SIGINT/SIGTERM, `onSignal`; on exit, kill whatever server is left. */
export function stopServersWhenThisProcessEnds(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('SIGINT', () => onSignal('SIGINT', 130));
  process.on('SIGTERM', () => onSignal('SIGTERM', 143));
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}
