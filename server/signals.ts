/**
 * What SIGINT and SIGTERM do, once, for the server, its cluster primary and the scripts: the first stops gently,
 * a second while it stops ends the process at once, with the exit code a shell gives a process the signal ended
 * (128 + the signal's number: 130 for SIGINT, 143 for SIGTERM).
 */
import { constants } from 'node:os';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** 130 for SIGINT, 143 for SIGTERM. */
export function exitCodeOf(signal: StopSignal): number {
  return 128 + constants.signals[signal];
}

/**
 * From now on the first SIGINT or SIGTERM calls `stop`; a second, while it stops, calls `atOnce` (e.g. to kill
 * what cannot be left behind) and exits with that signal's code. Returns `begin`: stopping for another reason (a
 * parent gone) calls it first, so that a signal after that counts as the second; it says whether it was the first.
 */
export function onStopSignals(stop: (signal: StopSignal) => void, atOnce: () => void = () => {}): () => boolean {
  let stopping = false;
  const begin = () => {
    if (stopping) return false;
    stopping = true;
    return true;
  };
  for (const signal of STOP_SIGNALS) {
    process.on(signal, () => {
      if (!begin()) {
        atOnce();
        process.exit(exitCodeOf(signal));
      }
      stop(signal);
    });
  }
  return begin;
}
