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
import type { ServerStats } from '../../server.ts';
import { UserError } from './cli.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVER_FILE = fileURLToPath(new URL('../../server.ts', import.meta.url));
const READY_LINE = /listening on (http:\/\/\S+)/;

export interface ServerOptions {
  poolSize?: number;
  delayMs?: number;
  queueLimit?: number;
  /** Any further flags for server.ts. */
  extraArgs?: string[];
  /** Give up waiting for the ready line after this long. */
  readyTimeoutMs?: number;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:43121 — the real port, the server picked a free one. */
  url: string;
  pid: number;
  /** ms from spawning the process to its ready line (pool threads warm included). */
  startupMs: number;
  stats(): Promise<ServerStats>;
  /** Closes the server's measurement window (event-loop delay) and returns its figures. */
  resetStats(): Promise<ServerStats>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. Resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
  /** Exit code and signal once exited, else null. */
  readonly exited: ExitStatus | null;
  /** Resolves once the process has exited, however it was stopped. */
  readonly exit: Promise<ExitStatus>;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const running = new Set<ChildProcess>();

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  stopServersWhenThisProcessEnds();
  const args = ['--port', '0', '--quiet'];
  if (options.poolSize !== undefined) args.push('--pool', String(options.poolSize));
  if (options.delayMs !== undefined) args.push('--delay-ms', String(options.delayMs));
  if (options.queueLimit !== undefined) args.push('--queue', String(options.queueLimit));
  args.push(...(options.extraArgs ?? []));

  const spawnedAt = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER_FILE, ...args], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  running.add(child);
  let exited: RunningServer['exited'] = null;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      running.delete(child);
      resolve();
    }),
  );
  child.once('error', () => {}); // reported through 'exit' / the ready wait below

  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-4000)));

  const url = await waitForReadyLine(child, exitedPromise, options.readyTimeoutMs ?? 60_000, () => stderr).catch(
    async (error: unknown) => {
      await stop(child, exitedPromise, 2000);
      throw error;
    },
  );
  const startupMs = performance.now() - spawnedAt;

  return {
    url,
    pid: child.pid!,
    startupMs,
    get exited() {
      return exited;
    },
    exit: exitedPromise.then(() => exited!),
    stats: () => getJson<ServerStats>(`${url}/stats`),
    resetStats: () => getJson<ServerStats>(`${url}/stats/reset`, 'POST'),
    stop: (graceMs = 8000) => stop(child, exitedPromise, graceMs),
  };
}

function waitForReadyLine(
  child: ChildProcess,
  exited: Promise<void>,
  timeoutMs: number,
  stderr: () => string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(
      () => reject(new UserError(`the server did not print its ready line within ${timeoutMs / 1000} s.${tail(stderr())}`)),
      timeoutMs,
    );
    lines.on('line', (line) => {
      const match = READY_LINE.exec(line);
      if (match) {
        clearTimeout(timer);
        lines.removeAllListeners('line');
        child.stdout!.resume(); // keep draining anything it prints later
        resolve(match[1]!);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new UserError(`the server exited before it was ready (exit code ${child.exitCode}).${tail(stderr())}`));
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

async function getJson<T>(url: string, method = 'GET'): Promise<T> {
  const response = await fetch(url, { method });
  if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}`);
  return (await response.json()) as T;
}

function tail(stderr: string): string {
  const lines = stderr.trim().split('\n').filter(Boolean);
  if (lines.length <= 1) return lines[0] ? ` It said: ${lines[0]}` : '';
  return ` Its last words:\n${lines.slice(-8).join('\n')}`;
}

let cleanupInstalled = false;

/** On SIGINT/SIGTERM stop every server we started, then exit as the signal would have; on exit, kill them. */
function stopServersWhenThisProcessEnds(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping ${running.size} server(s) and exiting.\n`);
      const waits = [...running].map((child) => new Promise((resolve) => child.once('exit', resolve)));
      for (const child of running) child.kill('SIGTERM');
      const forced = setTimeout(() => process.exit(code), 5000);
      void Promise.all(waits).then(() => {
        clearTimeout(forced);
        process.exit(code);
      });
    });
  }
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}
