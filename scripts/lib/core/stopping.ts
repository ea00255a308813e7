/**
 * A stop asked for by anyone (a signal, through the entry module; a server that died, through the experiment), heard
 * by whoever must keep something first (the experiment writes what finished, the live page closes its streams,
 * run-all writes its summary). No process handler is installed here and nothing exits: scripts/lib/main.ts does
 * both, and tests can drive a stop in their own process.
 */
import type { StopReason } from './outcomes.ts';

type Listener = (reason: StopReason) => void | Promise<void>;

const listeners = new Set<Listener>();
let requested: { reason: StopReason; done: Promise<void> } | null = null;
/** What the entry does once every listener has kept what it keeps (stop the processes, exit). */
let afterListeners: (reason: StopReason) => void | Promise<void> = () => {};

/** Heard once, when a stop is first asked for; returns a function that stops listening. */
export function onStopRequested(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * Asks the script to stop. The first call runs every listener (side by side) and then what the entry set; a later
 * call changes nothing and returns the same promise.
 */
export function requestStop(reason: StopReason): Promise<void> {
  requested ??= {
    reason,
    done: (async () => {
      await Promise.allSettled([...listeners].map(async (listener) => listener(reason)));
      await afterListeners(reason);
    })(),
  };
  return requested.done;
}

/** The stop asked for so far, or null. */
export function stopRequested(): StopReason | null {
  return requested?.reason ?? null;
}

/** For the entry module only: what follows the listeners. */
export function setAfterStop(then: (reason: StopReason) => void | Promise<void>): void {
  afterListeners = then;
}
