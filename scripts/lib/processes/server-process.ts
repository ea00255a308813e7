/**
 * Any HTTP server as a child process of this script (server.ts, uvicorn): started, its ready line awaited, stopped.
 *
 * Why a child process: the client must not share the server's event loop, or every timer the client sets would be
 * delayed by the server's work and the other way round. Every server started here is stopped when the script ends
 * (./cleanup.ts): by its `stop()`, on SIGINT/SIGTERM, on exit, and, when this process dies without a word
 * (SIGKILL), by the server itself, which watches its IPC channel or its stdin.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { UserError } from '../core/outcomes.ts';
import { track } from './cleanup.ts';
import { httpRequest } from '../client/http-get.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

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

/** A server running in a child process of this script. */
export interface ServerProcess {
  /** e.g. http://127.0.0.1:43121 — the real port, the server picked a free one. */
  url: string;
  pid: number;
  /** ms from spawning the process to its ready line (pool threads warm included). */
  startupMs: number;
  /** The ready lines it printed: one, or one per worker process where each says so (uvicorn's, with its PID). */
  readyLines: readonly string[];
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. Resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
  /** Whether stop() was called: an exit after that was asked for, not a death. */
  readonly stopRequested: boolean;
  /** Exit code and signal once exited, else null. */
  readonly exited: ExitStatus | null;
  /** Resolves once the process has exited, however it was stopped. */
  readonly exit: Promise<ExitStatus>;
  /** Whether it still runs and answers HTTP. */
  answers(): Promise<boolean>;
  /** What it has written to stderr so far, its warnings (the last 4000 characters). */
  warnings(): string;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export async function startServerProcess(spec: ServerProcessSpec): Promise<ServerProcess> {
  const spawnedAt = performance.now();
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd ?? PROJECT_ROOT,
    stdio: spec.parentWatch === 'ipc' ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['pipe', 'pipe', 'pipe'],
    env: spec.env ?? process.env,
  });
  track(child);
  let exited: ExitStatus | null = null;
  let stopRequested = false;
  let spawnError = '';
  const exitedPromise = new Promise<void>((resolve) => {
    const ended = (code: number | null, signal: NodeJS.Signals | null) => {
      exited ??= { code, signal };
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

  const { url, lines: readyLines } = await waitForReadyLine(child, spec, exitedPromise, () => spawnError || stderr).catch(
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
    readyLines,
    get exited() {
      return exited;
    },
    get stopRequested() {
      return stopRequested;
    },
    exit: exitedPromise.then(() => exited!),
    stop: (graceMs = 8000) => {
      stopRequested = true;
      return stop(child, exitedPromise, graceMs);
    },
    answers: async () => exited === null && !('error' in (await httpRequest(`${url}/stats`, { timeoutMs: 2000 }))),
    warnings: () => stderr,
  };
}

function waitForReadyLine(
  child: ChildProcess,
  spec: ServerProcessSpec,
  exited: Promise<void>,
  stderr: () => string,
): Promise<{ url: string; lines: string[] }> {
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
        resolve({ url: match[1]!, lines: [...seen] });
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

function tail(stderr: string): string {
  const lines = stderr.trim().split('\n').filter(Boolean);
  if (lines.length <= 1) return lines[0] ? ` It said: ${lines[0]}` : '';
  return ` Its last words:\n${lines.slice(-8).join('\n')}`;
}
