/**
 * Progress for anything that takes more than a second: which experiment, which measurement, requests done
 * of N, elapsed. On a terminal it rewrites one line (four times a second); in a log (CI, a pipe) it prints
 * a plain line when a step starts and ends and one every few seconds in between; with --quiet nothing.
 * It writes to stderr, so stdout keeps only the results.
 */

export interface Progress {
  /** A new step, e.g. "sync, N = 100, P = 40", with its number of requests. */
  step(label: string, total?: number): void;
  /** Requests done of the step's total. */
  tick(done: number): void;
  /** The same step under another name (the line that stays when it is done). */
  rename(label: string): void;
  /** The step is over; `summary` stays on screen, e.g. "9007.5 ms (model 9000)". */
  done(summary: string): void;
}

const PLAIN_EVERY_MS = 5000;
const LIVE_EVERY_MS = 250;

export function createProgress(experiment: string, options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): Progress {
  if (options.quiet) return { step() {}, tick() {}, rename() {}, done() {} };
  const stream = options.stream ?? process.stderr;
  const live = stream.isTTY === true;
  let label = '';
  let total = 0;
  let finished = 0;
  let began = performance.now();
  let timer: NodeJS.Timeout | undefined;

  const line = () => {
    const count = total > 0 ? ` · ${finished}/${total} requests` : '';
    return `${experiment} · ${label}${count} · ${((performance.now() - began) / 1000).toFixed(1)} s`;
  };
  const show = () => stream.write(live ? `\r\x1b[2K${line()}` : `${line()}\n`);

  return {
    step(next, n = 0) {
      clearInterval(timer);
      [label, total, finished, began] = [next, n, 0, performance.now()];
      show();
      timer = setInterval(show, live ? LIVE_EVERY_MS : PLAIN_EVERY_MS).unref();
    },
    tick(done) {
      finished = done;
    },
    rename(next) {
      label = next;
    },
    done(summary) {
      clearInterval(timer);
      stream.write(`${live ? '\r\x1b[2K' : ''}${experiment} · ${label}: ${summary}\n`);
    },
  };
}
