/**
 * Start-up and shutdown, as uvicorn does them: settings refused in one sentence, a port that is taken said
 * plainly, signals handled from the first moment, a parent that vanished noticed, and a graceful stop that
 * drains in-flight requests. Separate from server.ts, which only declares the routes and the order of start-up.
 */
import { createServer, type Server } from 'node:http';
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { getRequestListener } from '@hono/node-server';
import { answerUnparsableRequest, answerUnroutableRequest } from './answers.ts';
import { parseServerSettings, SettingsError, USAGE, type ServerSettings } from './settings.ts';
import { isClusterWorker } from './cluster.ts';
import { onStopSignals } from './signals.ts';

/** The settings, or: --help printed and exit 0; a bad value said in one sentence and exit 2. */
export function settingsOrExit(argv: string[], env: NodeJS.ProcessEnv): ServerSettings {
  let settings: ServerSettings | null;
  try {
    settings = parseServerSettings(argv, env);
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    console.error(`server.ts: ${error.message}`);
    process.exit(2);
  }
  if (settings === null) {
    console.log(USAGE);
    process.exit(0);
  }
  // Deno (2.9) runs node:cluster, but any worker thread started inside a cluster worker dies at once ("process.connected
  // is not supported in workers"), and the pool is worker threads.
  if (settings.workers > 1 && process.versions.deno) {
    console.error(
      `server.ts: --workers ${settings.workers} cannot run on Deno ${process.versions.deno}: its cluster workers cannot start worker threads, which the pool is; use one process, or Node or Bun.`,
    );
    process.exit(2);
  }
  if (!isLoopback(settings.host) && !isClusterWorker()) {
    console.warn(
      `warning: binding ${settings.host}, not loopback: any client that reaches it can tie up the ` +
        `${settings.poolSize} pool threads with /sync-test requests.`,
    );
  }
  return settings;
}

/**
 * From the moment this is called, SIGINT/SIGTERM and a vanished parent stop the process, also while the pool
 * warms up: a signal that came before the handlers would kill it without a word, and a parent gone before then
 * would never be noticed. Until `drainWith` is given a graceful stop there is nothing to drain: it just exits.
 * A second signal exits at once. `stop(why)` stops the same way, but is never taken for a second signal.
 */
export function stopOnSignals(quiet: boolean): { drainWith(stop: () => Promise<void>): void; stop(why: string): void } {
  let drain: (() => Promise<void>) | null = null;
  const shutdown = async (why: string) => {
    if (!quiet) console.log(`${why}: shutting down`);
    if (drain) await drain();
    process.exit(0);
  };
  const begin = onStopSignals((signal) => void shutdown(signal));
  const stop = (why: string) => void (begin() && shutdown(why));
  // Started by a script with an IPC channel: if that script dies, even by SIGKILL, we go with it (at once if we
  // were stopping already). A --workers worker's channel is its primary's and carries its listening socket: it
  // must keep the process alive.
  if (process.channel) {
    process.on('disconnect', () => (begin() ? void shutdown('parent gone') : process.exit(1)));
    if (!isClusterWorker()) process.channel.unref();
    if (!process.connected) stop('parent gone');
  }
  return {
    drainWith: (stop) => {
      drain = stop;
    },
    stop,
  };
}

export interface Listening {
  server: Server;
  /** e.g. http://127.0.0.1:8000, with the real port. */
  url: string;
}

/**
 * Serves `fetch` over node:http on the settings' host and port, or says why it cannot in one sentence and
 * exits 2 (after `cleanUp`, e.g. ending the pool's threads).
 */
export async function listenOrExit(
  fetch: (request: Request) => Response | Promise<Response>,
  settings: ServerSettings,
  cleanUp: () => Promise<void>,
): Promise<Listening> {
  const server = createServer(
    // Node would answer an HTTP/1.1 request without Host with an empty 400; Hono's error handler gives it a body.
    { requireHostHeader: false },
    getRequestListener(fetch, { errorHandler: answerUnroutableRequest }),
  );
  server.on('clientError', answerUnparsableRequest);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // A large backlog so a burst of thousands of connections is not dropped by the kernel.
      server.listen({ host: settings.host, port: settings.port, backlog: 4096 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await cleanUp();
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'EADDRINUSE' ? 'is already in use' : code === 'EACCES' ? 'needs privileges' : `failed (${code})`;
    console.error(`server.ts: ${settings.host}:${settings.port} ${reason}; pick another with --port (0 = any free port).`);
    process.exit(2);
  }
  const { port } = server.address() as { port: number };
  return { server, url: `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}` };
}

/**
 * Shutdown as uvicorn does it: stop accepting, give in-flight requests a moment to finish, then answer the
 * rest 503 (`endWork` ends the pool's tasks), and close whatever connection is still open.
 */
export async function stopGracefully(server: Server, graceMs: number, endWork: () => Promise<void>): Promise<void> {
  const drained = new Promise<void>((resolve) => server.close(() => resolve()));
  await Promise.race([drained, sleep(graceMs)]);
  await endWork();
  // The ended tasks' 503s are on their way; a connection still open after that (an awaited timer) is cut.
  await Promise.race([drained, sleep(500)]);
  server.closeAllConnections();
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}
