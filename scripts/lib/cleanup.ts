/**
 * Everything a script starts is stopped when it ends, however it ends: the registry of its child processes (the
 * servers) and of what they stand on (a database it started), and what SIGINT and SIGTERM do. By default a signal
 * stops them all and exits as the signal would have (130, 143); an experiment takes that over to keep what it
 * measured first (./experiment.ts). On exit, whatever child is left is killed; a child that outlives a SIGKILL of
 * this process is the child's to notice (server.ts watches its IPC channel, uvicorn's launcher its stdin).
 */
import type { ChildProcess } from 'node:child_process';
import { exitCodeOf, STOP_SIGNALS, type StopSignal } from '../../server/signals.ts';

const children = new Set<ChildProcess>();
const services = new Set<() => Promise<void>>();

/** A child process to stop when the script ends; it leaves the registry by itself when it exits. */
export function track(child: ChildProcess): void {
  installOnce();
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/**
 * What the servers stand on and must outlive them (a database this process started): stopped after every
 * server, by stopAllServers. Returns a function that takes the entry back (once it was stopped by other means).
 */
export function stopAfterServers(stop: () => Promise<void>): () => void {
  installOnce();
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

let onSignal = (signal: StopSignal, exitCode: number) => {
  process.stderr.write(`\n${signal}: stopping ${trackedCount()} server(s) and exiting.\n`);
  void stopAllServers().then(() => process.exit(exitCode));
};

/** What SIGINT/SIGTERM do from now on, instead of stopping everything and exiting. */
export function handleSignals(handler: (signal: StopSignal, exitCode: number) => void): void {
  onSignal = handler;
  installOnce();
}

let installed = false;
function installOnce(): void {
  if (installed) return;
  installed = true;
  for (const signal of STOP_SIGNALS) process.on(signal, () => onSignal(signal, exitCodeOf(signal)));
  process.once('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });
}
