/**
 * Everything a script starts is stopped when it ends, however it ends: the registry of its child processes (the
 * servers) and of what they stand on (a database it started). The library only registers and stops; the entry
 * module (scripts/lib/main.ts) calls stopAllServers on a signal and killAllNow on exit. A child that outlives a
 * SIGKILL of this process is the child's to notice (server.ts watches its IPC channel, uvicorn's launcher its stdin,
 * PostgreSQL and PgBouncer a watchdog).
 */
import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
const services = new Set<() => Promise<void>>();

/** A child process to stop when the script ends; it leaves the registry by itself when it exits. */
export function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/**
 * What the servers stand on and must outlive them (a database this process started): stopped after every
 * server, by stopAllServers. Returns a function that takes the entry back (once it was stopped by other means).
 */
export function stopAfterServers(stop: () => Promise<void>): () => void {
  services.add(stop);
  return () => services.delete(stop);
}

/** How many things are registered to be stopped. */
export function trackedCount(): number {
  return children.size + services.size;
}

/**
 * Stops every child this process started (SIGTERM, then SIGKILL after `graceMs`), then what they stood on;
 * resolves once all have exited.
 */
export async function stopAllServers(graceMs = 5000): Promise<void> {
  const all = [...children];
  const exits = all.map(
    (child) =>
      new Promise((resolve) =>
        child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve),
      ),
  );
  for (const child of all) child.kill('SIGTERM');
  const killer = setTimeout(() => {
    for (const child of all) child.kill('SIGKILL');
  }, graceMs);
  await Promise.all(exits);
  clearTimeout(killer);
  const stops = [...services];
  services.clear();
  await Promise.all(stops.map((stop) => stop().catch(() => {})));
}

/** Every child still running, killed outright (SIGKILL), synchronously: for the moment the process exits. */
export function killAllNow(): void {
  for (const child of children) child.kill('SIGKILL');
}
