/**
 * server.ts --workers K: K processes through node:cluster, as `uvicorn --workers K` runs K, each with its own
 * event loop and its own pool (K pools of P threads, as uvicorn gives each process its own limiter of 40). The
 * primary serves nothing itself: it starts the workers, prints the one ready line once every one is listening
 * and warm, replaces a worker that dies, answers for the whole group's /stats, and stops them all on
 * SIGINT/SIGTERM or when its own parent is gone. Node's cluster hands out connections round-robin from the
 * primary (on Linux); uvicorn's workers all accept on one shared socket: scripts/workers.ts compares the two.
 */
import cluster, { type Worker } from 'node:cluster';
import { createServer } from 'node:net';
import type { ServerSettings } from './settings.ts';
import { addUpStats, type ClusterStats, type LocalStatsWindow, type ServerStats, type StatsWindow } from './stats-window.ts';
import {
  localTaskChanges,
  mergeTaskChanges,
  type ProcessChanges,
  type TaskChanges,
  type TaskChangesReader,
  type TaskLog,
} from './task-log.ts';
import { onStopSignals } from './signals.ts';
import { DRIVER_DEFAULT_POOL, describeShortfall, readConnectionAllowance, shareOut, type WarmPool } from './connection-limit.ts';

/** What a worker's /stats, /stats/reset or /stats/tasks asks of the whole group. */
type Question = { kind: 'stats'; reset: boolean } | { kind: 'tasks'; cursor: [number, number][] | null };
type Answer = ServerStats | ProcessChanges;

type Message =
  | { kind: 'ready'; url: string; poolWarmUpMs: number; database: WarmPool }
  | { kind: 'ask'; id: number; question: Question } // a worker asks for the group's answer (its route was called)
  | { kind: 'collect'; id: number; question: Question } // the primary asks every worker for its own
  | { kind: 'collected'; id: number; answer: Answer }
  | { kind: 'group-answer'; id: number; answer: ClusterStats | TaskChanges }
  | { kind: 'shutdown' };

export const isClusterWorker = () => cluster.isWorker;

/** The port the primary chose for its workers (see runPrimary), in their environment. */
const GROUP_PORT = 'SERVER_GROUP_PORT';

/** In a worker: its settings, with the port its primary chose for the group where it chose one. */
export function withTheGroupsPort(settings: ServerSettings): ServerSettings {
  const port = isClusterWorker() ? process.env[GROUP_PORT] : undefined;
  return port ? { ...settings, port: Number(port) } : settings;
}

/**
 * The primary: forks K workers (each runs server.ts with the same settings), prints the ready line once all have
 * said they are ready, and keeps the group running until a signal or its parent's departure stops it. With a
 * database, it first asks PostgreSQL how many connections the role may open, and says before the ready line where
 * the K pools wanted more than that (./connection-limit.ts).
 */
export async function runPrimary(settings: ServerSettings): Promise<void> {
  const ready = new Map<number, { url: string; poolWarmUpMs: number; database: WarmPool }>();
  let stopping = false;
  let announced = false;
  // A question to every worker (their /stats, their task changes): answered once every worker asked has answered
  // or is gone. A worker that dies meanwhile must not leave the question open: /stats would hang until it timed out.
  const collecting = new Map<number, { from: Worker; question: Question; asked: Set<number>; got: Map<number, Answer> }>();
  const answerIfComplete = (id: number) => {
    const request = collecting.get(id);
    if (!request || [...request.asked].some((pid) => !request.got.has(pid))) return;
    collecting.delete(id);
    const answer =
      request.question.kind === 'stats'
        ? addUpStats(request.got as Map<number, ServerStats>)
        : mergeTaskChanges([...(request.got as Map<number, ProcessChanges>).values()]);
    if (request.from.isConnected()) request.from.send({ kind: 'group-answer', id, answer } satisfies Message);
  };
  // Node's workers share the primary's listener, also one on port 0. Bun's (1.4) each listen themselves, sharing a
  // port only when it is given (SO_REUSEPORT): on port 0 each took a port of its own and the ready line reached one
  // of them. So on Bun the primary picks the free port first and gives it to every worker.
  const port = settings.port === 0 && process.versions.bun ? await freePort(settings.host) : settings.port;
  const groupEnv = port === settings.port ? {} : { [GROUP_PORT]: String(port) };

  // How many database connections each worker opens at start (its share, where the K pools do not all fit); a
  // worker that replaces one that died takes over its share.
  const shares = new Map<number, number>();
  const fork = (share: number | null) => {
    const worker = cluster.fork({ ...groupEnv, ...(share === null ? {} : { [WARM_CONNECTIONS_ENV]: String(share) }) });
    if (share !== null) shares.set(worker.id, share);
    worker.on('message', (message: Message) => onMessage(worker, message));
    return worker;
  };
  const onMessage = (worker: Worker, message: Message) => {
    if (message.kind === 'ready') {
      ready.set(worker.process.pid!, message);
      if (!announced && ready.size === settings.workers) {
        announced = true;
        const warmed = new Map([...ready].map(([pid, r]) => [pid, r.database]));
        const shortfall = settings.databaseUrl === null ? null : describeShortfall(settings, warmed, allowance);
        if (shortfall) console.warn(shortfall);
        const warmMs = Math.max(...[...ready.values()].map((r) => r.poolWarmUpMs));
        console.log(
          `listening on ${message.url} (${settings.workers} workers × pool ${settings.poolSize} threads, warm in ${Math.round(warmMs)} ms, ` +
            `delay ${settings.delayMs} ms, queue ${settings.queueLimit})`,
        );
      } else if (announced && !settings.quiet) console.log(`worker ${worker.process.pid} ready`);
    } else if (message.kind === 'ask') {
      // Only workers that said they are ready: one still starting (a replacement warming its pool) does not listen
      // for questions yet, and would leave this one unanswered.
      const workers = Object.values(cluster.workers ?? {}).filter(
        (w): w is Worker => w?.isConnected() === true && ready.has(w.process.pid!),
      );
      const asked = new Set(workers.map((w) => w.process.pid!));
      collecting.set(message.id, { from: worker, question: message.question, asked, got: new Map() });
      for (const w of workers) w.send({ kind: 'collect', id: message.id, question: message.question } satisfies Message);
    } else if (message.kind === 'collected') {
      collecting.get(message.id)?.got.set(worker.process.pid!, message.answer);
      answerIfComplete(message.id);
    }
  };

  cluster.on('exit', (worker, code, signal) => {
    ready.delete(worker.process.pid!);
    for (const [id, request] of collecting) {
      request.asked.delete(worker.process.pid!);
      request.got.delete(worker.process.pid!);
      answerIfComplete(id);
    }
    if (stopping) return;
    if (!announced) {
      // A worker that could not start (a port in use, a bad setting) has said why on stderr: the group ends too.
      console.error(`server.ts: worker ${worker.process.pid} exited before it was ready (${code ?? signal}); stopping.`);
      if (begin()) void stop(code && code > 0 ? code : 1);
      return;
    }
    console.error(`worker ${worker.process.pid} exited (${code ?? signal}); starting another`);
    fork(shares.get(worker.id) ?? null);
    shares.delete(worker.id);
  });

  // Stops every worker gently (each drains its requests, as after a signal), then exits; forced after the grace.
  const stop = async (exitCode: number) => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    const exited = workers.map((w) => new Promise((resolve) => (w.isDead() ? resolve(null) : w.once('exit', resolve))));
    for (const w of workers) if (w.isConnected()) w.send({ kind: 'shutdown' } satisfies Message);
    const killer = setTimeout(() => {
      for (const w of workers) w.process.kill('SIGKILL');
    }, settings.shutdownGraceMs + 3000);
    await Promise.all(exited);
    clearTimeout(killer);
    process.exit(exitCode);
  };
  // A second signal: at once, workers included.
  const begin = onStopSignals(
    (signal) => {
      if (!settings.quiet) console.log(`${signal}: stopping ${Object.keys(cluster.workers ?? {}).length} workers`);
      void stop(0);
    },
    () => {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
    },
  );
  // Started by a script with an IPC channel: if that script dies, even by SIGKILL, the group goes with it.
  if (process.channel) {
    process.on('disconnect', () => void (begin() && stop(1)));
    process.channel.unref();
  }
  // Read before any worker opens a connection: what is in use then belongs to others. Behind a pooler the
  // arithmetic is the pooler's, and PostgreSQL's limit applies to its pool, not to ours.
  const allowance =
    settings.databaseUrl !== null && settings.pooler === null
      ? await readConnectionAllowance(settings.databaseUrl, settings.dbConnectTimeoutMs)
      : null;
  const warmShares =
    settings.databaseUrl === null ? [] : shareOut(settings.workers, settings.dbPoolSize ?? DRIVER_DEFAULT_POOL, allowance);
  for (let i = 0; i < settings.workers; i++) fork(warmShares[i] ?? null);
}

/** Set by the primary for each worker it forks, not a setting: how many database connections to open at start. */
const WARM_CONNECTIONS_ENV = 'SERVER_WORKER_DB_SHARE';

/** In a worker: how many database connections the primary asked it to open at start (null: its whole pool). */
export function warmShare(): number | null {
  const share = Number.parseInt(process.env[WARM_CONNECTIONS_ENV] ?? '', 10);
  return Number.isSafeInteger(share) ? share : null;
}

/**
 * In a worker: tells the primary it is listening and warm, and how many database connections it opened (the primary
 * prints the one ready line, and before it what the workers' pools add up to).
 */
export function reportReady(url: string, poolWarmUpMs: number, database: WarmPool): void {
  process.send!({ kind: 'ready', url, poolWarmUpMs, database } satisfies Message);
}

/** In a worker: the primary's request to stop is handled like a signal, but never as a second one. */
export function stopWhenThePrimaryAsks(stop: (why: string) => void): void {
  process.on('message', (message: Message) => message.kind === 'shutdown' && stop('the primary asked'));
}

/**
 * In a worker: /stats, /stats/reset and /stats/tasks answer for the whole group. The worker asks the primary,
 * which asks every worker (this one included) for its own and adds them up (the stats) or merges them (the tasks).
 */
export function groupAnswers(local: LocalStatsWindow, log: TaskLog): { stats: StatsWindow; tasks: TaskChangesReader } {
  let nextId = 0;
  const waiting = new Map<number, (answer: ClusterStats | TaskChanges) => void>();
  const own = localTaskChanges(log);
  process.on('message', (message: Message) => {
    if (message.kind === 'collect') {
      const { question } = message;
      const answer =
        question.kind === 'stats'
          ? question.reset
            ? local.reset()
            : local.read()
          : own.since(question.cursor === null ? null : new Map(question.cursor));
      process.send!({ kind: 'collected', id: message.id, answer } satisfies Message);
    } else if (message.kind === 'group-answer') {
      waiting.get(message.id)?.(message.answer);
      waiting.delete(message.id);
    }
  });
  const ask = (question: Question) =>
    new Promise<ClusterStats | TaskChanges>((resolve) => {
      // Ids are per worker; the PID keeps them apart in the primary.
      const id = process.pid * 1_000_000 + nextId++;
      waiting.set(id, resolve);
      process.send!({ kind: 'ask', id, question } satisfies Message);
    });
  return {
    stats: {
      ...local,
      read: () => ask({ kind: 'stats', reset: false }) as Promise<ClusterStats>,
      reset: () => ask({ kind: 'stats', reset: true }) as Promise<ClusterStats>,
    },
    tasks: {
      read: (cursor) => ask({ kind: 'tasks', cursor: cursor === null ? null : [...cursor] }) as Promise<TaskChanges>,
    },
  };
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host, port: 0 }, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
