/**
 * Errors the user can cause (a bad flag, a busy port, an unreachable URL) end a script as one sentence and a
 * non-zero exit, never a stack trace. The lowest module of scripts/lib: anything may throw a UserError.
 */

/** An error the user can fix: printed as one sentence. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/**
 * Turns a UserError that escapes a script into one sentence on stderr and its exit code. Anything else is a
 * bug and keeps its stack trace. `finally` blocks have run by then, so servers are already stopped.
 */
let reporting = false;
export function reportUserErrors(): void {
  if (reporting) return;
  reporting = true;
  process.on('uncaughtException', (error) => {
    if (error instanceof UserError) {
      console.error(error.message);
      process.exit(error.exitCode);
    }
    console.error(error);
    process.exit(1);
  });
}
