/**
 * How a script can end, as values: the library throws these and never exits; the one entry module
 * (scripts/lib/main.ts) turns whichever reaches it into a line and an exit code. The lowest module of scripts/lib:
 * anything may throw one.
 *
 *   0  finished, skipped (nothing to measure here, said why), or --help
 *   1  failed: a claim the script checks did not hold, a burst with errors it did not expect, a server that died
 *   2  the user's input: a bad flag, a busy port, a URL nobody answers at
 *   130 / 143  stopped by SIGINT / SIGTERM
 */

/** An error the user can fix (a bad flag, an unreachable URL): printed as one sentence, never a stack trace. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The script ran, and what it checks did not hold: its results are written, the sentence says what failed. */
export class ScriptFailure extends Error {
  readonly exitCode = 1;
}

/** Nothing could be measured here (no Python with FastAPI, no PostgreSQL): already said why; exits 0. */
export class ScriptSkipped extends Error {
  readonly exitCode = 0;
}

/** --help: the text goes to stdout, and the script ends there with 0. */
export class HelpRequested extends Error {
  readonly exitCode = 0;
}

/** Why a script stops before its end: a signal, or a server that died under it. */
export interface StopReason {
  /** In a sentence's words: 'SIGINT', 'the server (PID 123) exited mid-run with 1'. */
  by: string;
  exitCode: number;
}

/** Thrown where a script's own flow meets a stop (a burst cut short): the stop itself keeps what finished. */
export class Interrupted extends Error {
  constructor(readonly reason: StopReason) {
    super(`interrupted (${reason.by})`);
  }
}

/** What reaches the entry: the exit code, and the line to print (stdout for --help, else stderr; none: nothing). */
export function outcomeOf(error: unknown): { exitCode: number; line: string | null; stream: 'stdout' | 'stderr' } {
  if (error instanceof HelpRequested) return { exitCode: 0, line: error.message, stream: 'stdout' };
  if (error instanceof ScriptSkipped) return { exitCode: 0, line: null, stream: 'stderr' };
  if (error instanceof Interrupted) return { exitCode: error.reason.exitCode, line: null, stream: 'stderr' };
  if (error instanceof UserError || error instanceof ScriptFailure)
    return { exitCode: error.exitCode, line: error.message, stream: 'stderr' };
  // Anything else is a bug: keep its stack.
  return { exitCode: 1, line: error instanceof Error ? (error.stack ?? error.message) : String(error), stream: 'stderr' };
}
