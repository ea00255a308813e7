/**
 * The blog's own kind of server, reference/fastapi_app.py, under uvicorn as a child process: finding a Python
 * that can run it, and starting it like `uvicorn app:app --workers 1` on a free loopback port.
 *
 * Why look for the interpreter: the `python3` first on PATH (pyenv, a virtualenv) often lacks FastAPI while
 * the system's /usr/bin/python3 has Debian's python3-fastapi and python3-uvicorn. Each candidate is asked to
 * import what the app needs; the first that can wins. None → a reason naming what is missing and how to get it.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServerProcess, type ServerProcess } from './server-process.ts';
import { UserError } from '../core/outcomes.ts';

export const PYTHON_CANDIDATES = ['python3', '/usr/bin/python3', 'python'];

/** --python CMD, for the scripts that run the blog's app: which interpreter, and the default search. */
export function pythonFlag(runs: string): { help: string; value: string } {
  return {
    help: `the Python to run ${runs} with (default: the first of ${PYTHON_CANDIDATES.join(', ')} that has FastAPI)`,
    value: 'CMD',
  };
}

const RUN_UVICORN = fileURLToPath(new URL('../../../reference/run_uvicorn.py', import.meta.url));
// uvicorn logs this to stderr once the app's startup (THREAD_LIMIT included) is done and it listens.
const UVICORN_READY_LINE = /Uvicorn running on (http:\/\/\S+)/;
// With --workers K, uvicorn's line comes from the supervisor before any worker listens (and names port 0):
// reference/x_worker.py has each worker say when it accepts connections, with the real port.
const WORKER_READY_LINE = /X-Worker ready pid=\d+ url=(http:\/\/\S+)/;
const WORKER_PID = /X-Worker ready pid=(\d+)/;
const PACKAGES = ['fastapi', 'starlette', 'anyio', 'uvicorn'];
// Names every missing module at once (exit 3), else prints the versions as JSON.
const PROBE = `
import importlib.util, json, sys
missing = [name for name in ${JSON.stringify(PACKAGES)} if importlib.util.find_spec(name) is None]
if missing:
    print("no module named " + ", ".join(missing), file=sys.stderr)
    sys.exit(3)
from importlib.metadata import version
import fastapi, uvicorn, anyio.to_thread
print(json.dumps({"python": sys.version.split()[0], **{name: version(name) for name in ${JSON.stringify(PACKAGES)}}}))
`;

export interface FastApiPython {
  /** The interpreter, as given (a name on PATH or a path). */
  python: string;
  /** Python's and the packages' versions, for the results file. */
  versions: Record<string, string>;
}

export const HOW_TO_INSTALL =
  'Install them with `apt-get install python3-fastapi python3-uvicorn` on Debian or Ubuntu, ' +
  'or `pip install fastapi uvicorn` elsewhere, or name an interpreter that has them with --python.';

/** The first candidate that can import FastAPI and uvicorn, or why none can (one sentence per candidate). */
export async function findFastApiPython(candidates = PYTHON_CANDIDATES): Promise<FastApiPython | { missing: string }> {
  const reasons: string[] = [];
  for (const python of candidates) {
    const answer = await probe(python);
    if (typeof answer !== 'string') return { python, versions: answer };
    reasons.push(`${python}: ${answer}`);
  }
  return { missing: `no Python with FastAPI and uvicorn was found (${reasons.join('; ')}).` };
}

function probe(python: string): Promise<Record<string, string> | string> {
  return new Promise((resolve) => {
    const child = spawn(python, ['-c', PROBE], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ENOENT' ? 'not found' : error.message));
    child.once('close', (code, signal) => {
      if (code === 0) {
        try {
          return resolve(JSON.parse(stdout) as Record<string, string>);
        } catch {
          return resolve(`printed something unexpected: ${stdout.trim().slice(0, 80)}`);
        }
      }
      if (code === 3) return resolve(stderr.trim());
      resolve(signal ? `killed by ${signal}` : `exited with ${code}: ${stderr.trim().split('\n').pop() ?? ''}`);
    });
  });
}

export interface FastApiOptions {
  python: string;
  delayMs: number;
  /** anyio's limit for `def` endpoints; undefined keeps anyio's default of 40. */
  threadLimit?: number;
  /**
   * uvicorn --workers K of the app wrapped by reference/x_worker.py (X-Worker header, a ready line per worker).
   * Undefined: the blog's app itself, one process, as compare-fastapi runs it.
   */
  workers?: number;
  readyTimeoutMs?: number;
}

/**
 * The PIDs of uvicorn's worker processes, from their ready lines (`startFastApi` with `workers`): every process that
 * may serve, also one that is never handed a connection. Empty for the blog's app alone, which prints none.
 */
export function uvicornWorkerPids(server: ServerProcess): string[] {
  return server.readyLines.flatMap((line) => WORKER_PID.exec(line)?.[1] ?? []);
}

/** uvicorn with the reference app on 127.0.0.1 and a port the OS picks; resolves once it (every worker) listens. */
export async function startFastApi(options: FastApiOptions): Promise<ServerProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, DELAY_MS: String(options.delayMs) };
  if (options.threadLimit !== undefined) env.THREAD_LIMIT = String(options.threadLimit);
  const workers = options.workers;
  const server = await startServerProcess({
    name: 'uvicorn',
    command: options.python,
    // No access log: like server.ts --quiet, no line per request on stderr. The app's own START/END prints stay.
    args: [
      RUN_UVICORN,
      workers === undefined ? 'reference.fastapi_app:app' : 'reference.x_worker:app',
      ...['--workers', String(workers ?? 1), '--host', '127.0.0.1', '--port', '0', '--no-access-log'],
    ],
    env,
    readyLine: workers === undefined ? UVICORN_READY_LINE : WORKER_READY_LINE,
    readyCount: workers ?? 1,
    readyStream: 'stderr',
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    parentWatch: 'stdin',
  });
  // uvicorn prints the port the OS gave it since 0.13; an older one would print :0, which we cannot fire at.
  if (new URL(server.url).port === '0') {
    await server.stop();
    throw new UserError('this uvicorn does not say which port it got with --port 0; uvicorn 0.13 or later is needed.');
  }
  return server;
}
