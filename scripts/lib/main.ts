/**
 * The entry of every script: the one module under scripts/lib/ that ends the process or installs a process-wide
 * handler. Everything else returns values and throws (scripts/lib/core/outcomes.ts); what reaches here decides the
 * exit code. A script calls `startScript` once, first (defineExperiment does it for an experiment), and is then
 * plain top-level code: when that code ends, the process ends with 0.
 *
 *  - An error that escapes the script (a top-level await that rejects included) ends it with its code and one line:
 *    1 failed, 2 the user's input, 0 skipped or --help; any other error is a bug and keeps its stack (exit 1).
 *  - The first SIGINT/SIGTERM asks for a stop (scripts/lib/core/stopping.ts): everyone who keeps something first
 *    (the experiment writes what finished) is heard, then every process the script started is stopped, then exit
 *    130/143. A second signal kills them outright and exits at once. A stop asked for by the library (a server
 *    that died) ends the same way, with its own code.
 *  - Output piped into a reader that stops reading (`| head`) ends the script quietly, its processes stopped.
 *  - However the process exits, any child still running is killed outright.
 */
import { exitCodeOf, STOP_SIGNALS } from '../../server/signals.ts';
import { Interrupted, outcomeOf, type StopReason } from './core/outcomes.ts';
import { requestStop, setAfterStop, stopRequested } from './core/stopping.ts';
import { killAllNow, stopAllServers } from './processes/cleanup.ts';
import { parseScriptFlags, type ScriptFlags, type ScriptSpec } from './flags.ts';

/** After a stop was asked for, the script ends within this long even if something will not let go. */
const STOP_DEADLINE_MS = 15_000;

let installed = false;

/** The handlers, once per process. */
export function installScriptHandlers(): void {
  if (installed) return;
  installed = true;
  setAfterStop(async (reason: StopReason) => {
    setTimeout(() => process.exit(reason.exitCode), STOP_DEADLINE_MS).unref();
    await stopAllServers(3000);
    process.exit(reason.exitCode);
  });
  for (const signal of STOP_SIGNALS) {
    process.on(signal, () => {
      if (stopRequested()) {
        killAllNow();
        process.exit(exitCodeOf(signal));
      }
      void requestStop({ by: signal, exitCode: exitCodeOf(signal) });
    });
  }
  process.on('uncaughtException', (error) => {
    // Where the script's flow met a stop, the stop ends the process once what finished is kept.
    if (error instanceof Interrupted) return void requestStop(error.reason);
    const { exitCode, line, stream } = outcomeOf(error);
    if (line !== null) (stream === 'stdout' ? console.log : console.error)(line);
    void stopAllServers(3000).finally(() => process.exit(exitCode));
  });
  // Output piped into a reader that stopped reading (`| head`): stop quietly, as a command-line tool does on SIGPIPE.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      void requestStop({ by: 'the reader of its output went away', exitCode: 141 }); // 128 + SIGPIPE, as a shell reports it
    });
  }
  process.once('exit', killAllNow);
}

/** A script's start: the handlers, then its flags (--help ends it here with 0; a bad flag with one sentence and 2). */
export function startScript<K extends string, L extends string, T extends string, R extends string, S extends string>(
  spec: ScriptSpec<K, L, T, R, S>,
): ScriptFlags<K, L, T, R, S> {
  installScriptHandlers();
  return parseScriptFlags(spec);
}
