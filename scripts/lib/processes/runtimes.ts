/**
 * server.ts on Node, Bun or Deno: where each runtime's binary is, and the command that runs server.ts on it so that
 * the PID a script holds is the process that serves (no npx, no shim in between: a signal sent to a shim did not
 * reach the server behind it).
 *
 * Bun and Deno come from npm as pinned optionalDependencies, their platform packages (@oven/bun-<platform>,
 * @deno/<platform>): npm fetches the one that matches the machine and runs no install script for it. Where npm
 * skipped it (another platform) or its binary does not run here (Bun's x64 build needs AVX2), the runtime is missing,
 * with the reason, and its parts are skipped.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Runtime } from '../../../server/runtime.ts';
import type { ServerSettings } from '../../../server/settings.ts';
import { UserError } from '../core/outcomes.ts';
import { PROJECT_ROOT } from './server-process.ts';

/** The platform packages in package.json's optionalDependencies: `${platform}-${arch}` → [package, binary in it]. */
const PLATFORM_PACKAGES: Record<Exclude<Runtime, 'node'>, Record<string, [pkg: string, file: string]>> = {
  bun: {
    'linux-x64': ['@oven/bun-linux-x64', 'bin/bun'],
    'linux-arm64': ['@oven/bun-linux-aarch64', 'bin/bun'],
    'darwin-arm64': ['@oven/bun-darwin-aarch64', 'bin/bun'],
    'darwin-x64': ['@oven/bun-darwin-x64', 'bin/bun'],
  },
  deno: {
    'linux-x64': ['@deno/linux-x64-glibc', 'deno'],
    'linux-arm64': ['@deno/linux-arm64-glibc', 'deno'],
    'darwin-arm64': ['@deno/darwin-arm64', 'deno'],
    'darwin-x64': ['@deno/darwin-x64', 'deno'],
  },
};

/** A runtime that runs here: its binary and the version it reports. */
export interface FoundRuntime {
  runtime: Runtime;
  binary: string;
  version: string;
}

const found = new Map<Runtime, FoundRuntime | { missing: string }>();

/** The runtime's binary and version, or why it cannot run here (looked up once per process). */
export function findRuntime(runtime: Runtime): FoundRuntime | { missing: string } {
  let result = found.get(runtime);
  if (!result) {
    result = runtime === 'node' ? { runtime, binary: process.execPath, version: process.versions.node } : lookUp(runtime);
    found.set(runtime, result);
  }
  return result;
}

function lookUp(runtime: Exclude<Runtime, 'node'>): FoundRuntime | { missing: string } {
  const platform = `${process.platform}-${process.arch}`;
  const entry = PLATFORM_PACKAGES[runtime][platform];
  if (!entry) return { missing: `no ${runtime} package is listed for ${platform} in package.json's optionalDependencies` };
  const [pkg, file] = entry;
  let binary: string;
  try {
    binary = join(dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`)), file);
  } catch {
    return { missing: `${pkg} is not installed (npm install brings it; npm skips optional packages with --omit=optional)` };
  }
  if (!existsSync(binary)) return { missing: `${binary} is missing from ${pkg}` };
  // It may be there and not run (Bun's x64 build needs a CPU with AVX2): ask it its version.
  const asked = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  const version = /(\d+\.\d+\.\d+\S*)/.exec(asked.stdout ?? '')?.[1];
  if (asked.status !== 0 || !version) {
    const said = (asked.error?.message ?? asked.stderr ?? '').trim().split('\n')[0];
    return { missing: `${binary} --version failed${said ? ` (${said})` : ` (exit ${asked.status ?? asked.signal})`}` };
  }
  return { runtime, binary, version };
}

/** The runtime, or a UserError (exit 2) saying why it cannot run here. */
export function requireRuntime(runtime: Runtime): FoundRuntime {
  const result = findRuntime(runtime);
  if ('missing' in result) throw new UserError(`--runtime ${runtime} cannot run here: ${result.missing}.`, 2);
  return result;
}

/** How to run server.ts with `args` on `runtime`: the command, its arguments, and what it adds to the environment. */
export function serverCommand(
  runtime: Runtime,
  serverFile: string,
  args: string[],
  settings: Pick<ServerSettings, 'host' | 'upstreamUrl' | 'databaseUrl' | 'fifoDir'>,
): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  // Node: tsx's loader in the server's own process (not tsx's CLI, which adds a process in between).
  if (runtime === 'node') return { command: process.execPath, args: ['--import', 'tsx', serverFile, ...args], env: {} };
  const { binary } = requireRuntime(runtime);
  // Bun runs TypeScript itself; its transpiler cache would otherwise be written under the user's home.
  if (runtime === 'bun') return { command: binary, args: [serverFile, ...args], env: { BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0' } };
  // Deno with the permissions server.ts needs, named (and no prompt: a missing one fails instead of waiting): listen
  // on its host and reach its upstream and database, read the project (its modules, the pool's task file, the file
  // /file-test reads) and its FIFOs, write them (to let their readers go at shutdown), read its settings from the
  // environment.
  const hosts = new Set([bracketed(settings.host), ...[settings.upstreamUrl, settings.databaseUrl].flatMap(hostOf)]);
  const fifos = settings.fifoDir;
  const permissions = [
    '--no-prompt',
    `--allow-net=${[...hosts].join(',')}`,
    `--allow-read=${[PROJECT_ROOT, ...(fifos ? [fifos] : [])].join(',')}`,
    ...(fifos ? [`--allow-write=${fifos}`] : []),
    '--allow-env',
  ];
  return { command: binary, args: ['run', ...permissions, serverFile, ...args], env: { NO_COLOR: '1' } };
}

/** A URL's host as Deno's --allow-net takes it (an IPv6 address in brackets, as the URL has it). */
function hostOf(url: string | null): string[] {
  if (!url) return [];
  try {
    return [new URL(url).hostname];
  } catch {
    return []; // server.ts refuses it at start, in its own words
  }
}

function bracketed(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
