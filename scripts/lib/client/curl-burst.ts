/**
 * The blog's client, as a burst client: one background `curl` process per request, `wait`, and the total
 * from `date +%s` before and after, in whole seconds. Chosen with `client: 'curl'` in fireBurst.
 *
 * It is here to show what that method adds, not to measure the server: every request pays a fork, an exec
 * and curl's own start-up and connection, and the whole-second clock rounds the total by up to a second
 * either way. So beside the blog's whole-second figure the same shell reads bash's $EPOCHREALTIME
 * (microseconds, no extra process) just inside the two `date` calls: that sub-ms total is the fair one to
 * compare with the raw client's, and it includes process start-up and connecting, which the raw client
 * reports apart (connectMs).
 *
 * Per request, curl prints its own view: when bash launched it and curl's time_total. So a record's endMs
 * is launch + time_total and leaves out curl's start-up before its clock and its exit after; the total is
 * the shell's, and includes both.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { BurstOptions, BurstResult, NoAnswer, RequestRecord } from './burst-types.ts';
import { UserError } from '../core/outcomes.ts';

/** One process per request: beyond this the burst measures the machine's fork rate and memory, not HTTP. */
export const MAX_CURL_REQUESTS = 2000;

// The blog's test.sh, with the URLs as arguments (the paths are the caller's) and the sub-ms clock beside
// the whole-second one.
const TEST_SH = `
max_time=$1; shift
start=$(date +%s); t0=$EPOCHREALTIME
i=0
for url in "$@"; do
  i=$((i + 1))
  curl -s -o /dev/null --max-time "$max_time" -w "$i $EPOCHREALTIME %{http_code} %{time_total} %{exitcode}\\n" "$url" &
done
wait
t1=$EPOCHREALTIME; end=$(date +%s)
echo "burst $start $end $t0 $t1"
`;

/** curl's exit codes, as the raw client names the same failures. */
const CURL_ERRORS: Record<string, NoAnswer> = { '7': 'ECONNREFUSED', '28': 'timeout', '52': 'closed', '56': 'ECONNRESET' };

export async function fireCurlBurst(options: BurstOptions): Promise<BurstResult> {
  const n = options.requests;
  if (n > MAX_CURL_REQUESTS) {
    throw new UserError(
      `--client curl starts one process per request; ${n} requests is more than its limit of ${MAX_CURL_REQUESTS} (beyond it the burst would time the machine's fork rate, not the server).`,
      2,
    );
  }
  if (spawnSync('curl', ['--version'], { stdio: 'ignore' }).error)
    throw new UserError('--client curl needs curl on the PATH.', 2);

  const base = options.baseUrl.replace(/\/$/, '');
  const urls = Array.from({ length: n }, (_, i) => `${base}${options.path(i + 1)}`);
  const shell = spawn('bash', ['-c', TEST_SH, 'test.sh', String(options.timeoutMs / 1000), ...urls], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LC_ALL: 'C' }, // $EPOCHREALTIME with a decimal point
  });
  // curl ends itself at --max-time; this only catches a shell that hangs: one that prints nothing for longer than a
  // request may take. Not a deadline for the whole burst: on a slow machine launching 1000 curls takes as long as it
  // takes (20 s once here, 3.4 s another time), and a shell still launching them is not hung. An abort ends the shell
  // (and with it the timing line: the records it printed stay, the rest are 'interrupted').
  const idleMs = options.timeoutMs + 10_000;
  const backstop = setTimeout(() => shell.kill('SIGKILL'), idleMs);
  const interrupt = () => shell.kill('SIGKILL');
  options.signal?.addEventListener('abort', interrupt);

  const seen: { id: number; launched: number; status: number | null; seconds: number; error?: NoAnswer }[] = [];
  let burstLine: number[] | undefined;
  let stderr = '';
  shell.stderr.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-2000)));
  const lines = createInterface({ input: shell.stdout });
  lines.on('line', (line) => {
    backstop.refresh();
    const fields = line.split(' ');
    if (fields[0] === 'burst') {
      burstLine = fields.slice(1).map(Number);
      return;
    }
    const [id, launched, code, seconds, exitCode] = fields;
    const status = Number(code);
    const error = status > 0 ? undefined : (CURL_ERRORS[exitCode ?? ''] ?? (`curl exit ${exitCode ?? '?'}` as const));
    seen.push({
      id: Number(id),
      launched: Number(launched),
      status: status > 0 ? status : null,
      seconds: Number(seconds),
      error,
    });
    options.onRequestDone?.(seen.length, n);
  });
  const spawnedAt = performance.now();
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    shell.once('error', (error) => reject(new UserError(`--client curl could not start bash: ${error.message}.`)));
    shell.once('close', (code) => resolve(code));
  }).finally(() => {
    clearTimeout(backstop);
    options.signal?.removeEventListener('abort', interrupt);
  });
  const unfinished: NoAnswer = options.signal?.aborted ? 'interrupted' : 'timeout';

  // A shell that died before its last line still leaves the records it printed; the rest are timeouts.
  if (burstLine === undefined || burstLine.length !== 4 || burstLine.some(Number.isNaN)) {
    const elapsedMs = performance.now() - spawnedAt;
    if (!options.signal?.aborted)
      console.error(
        `curl burst: the shell ended without its timing line (exit ${exitCode}); timing from Node instead. ${stderr.trim()}`,
      );
    burstLine = [0, Math.round(elapsedMs / 1000), seen[0]?.launched ?? 0, (seen[0]?.launched ?? 0) + elapsedMs / 1000];
  }
  const [start, end, t0, t1] = burstLine as [number, number, number, number];
  const records: RequestRecord[] = Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    startMs: 0,
    endMs: (t1 - t0) * 1000,
    status: null,
    error: unfinished,
  }));
  for (const r of seen) {
    const startMs = (r.launched - t0) * 1000;
    records[r.id - 1] = {
      id: r.id,
      startMs,
      endMs: startMs + r.seconds * 1000,
      status: r.status,
      ...(r.error ? { error: r.error } : {}),
    };
  }
  // startedAt only lines bursts up side by side in this process; the shell's own clock times the burst.
  return { startedAt: spawnedAt, totalMs: (t1 - t0) * 1000, connectMs: null, wholeSeconds: end - start, requests: records };
}
