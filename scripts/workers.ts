/**
 * workers — scale out like uvicorn --workers K: node:cluster beside uvicorn, and how each spreads a burst.
 *
 * What it shows: K processes, each with its own event loop and its own pool of 40 threads, are K pools: 100
 * blocking requests of 3 s need ceil(100 / (K · 40)) waves if the requests are spread evenly: 9 s for K = 1, 6 s
 * for K = 2, 3 s for K = 4. Whether they are spread evenly is up to who hands out the connections. Node's
 * cluster primary accepts every connection and deals them round-robin, so each worker gets about N / K and the
 * even model holds. uvicorn's workers all accept on one shared socket, and whichever wakes first takes what is
 * waiting: a burst can land 100/0 on two workers, and then the busiest worker's ceil(n / 40) waves set the
 * total. The model from the split that really happened, max over workers of ceil(n_k / P) · D, holds for both.
 * Memory is the other price: every process is a whole runtime, and every Node worker warms its own 40 threads.
 *
 * Run:    npx tsx scripts/workers.ts [--workers 1,2,4] [--requests 100] [--delay-ms 3000] [--pool 40] [--repeat 3] [--quick]
 *         npx tsx scripts/workers.ts --python /usr/bin/python3   # the interpreter that has FastAPI
 * Expect: Node: sync in ceil(N / (K · P)) waves (3, 2 and 1 · D for K = 1, 2, 4 at the defaults), splits near
 *         even; uvicorn: the same or longer, with splits that change from run to run; every split names all K
 *         processes, 0 for one that got nothing, and the busiest one's waves are the total's; async one wave of D
 *         everywhere. Without a Python that has FastAPI and uvicorn, the uvicorn half is skipped with the reason
 *         and Node is measured alone.
 * Takes:  3.7 min in the committed run (results/summary.json; 3 bursts of each); --quick shortens D and N to
 *         check the shape. Writes results/workers.json.
 */
import { WORKERS } from './lib/results/labels.ts';
import { isOk } from './lib/client/burst-types.ts';
import { defineExperiment } from './lib/experiment.ts';
import type { TargetServer } from './lib/processes/start-server.ts';
import type { ServerProcess } from './lib/processes/server-process.ts';
import {
  findFastApiPython,
  startFastApi,
  uvicornWorkerPids,
  PYTHON_CANDIDATES,
  HOW_TO_INSTALL,
  pythonFlag,
} from './lib/processes/fastapi.ts';
import { treeRss } from './lib/processes/process-tree.ts';
import { predictTotalMs } from './lib/model/model.ts';
import { formatTable, ms, splitText, totalWithRange } from './lib/view/table.ts';
import type { Measurement } from './lib/results/types.ts';
import type { ClusterStats } from '../server/stats-window.ts';

/** What workers adds to its results: every process's memory after the bursts, and why uvicorn was left out. */
export interface WorkersResults {
  memory: { server: string; workers: number; processes: number; rssBytes: number }[];
  fastapiSkipped?: string;
}

const experiment = defineExperiment({
  about: 'Runs server.ts --workers K and uvicorn --workers K, fires the same bursts at each, and shows how each spread them.',
  numbers: {
    requests: { help: 'requests fired at once, per burst', default: 100, quick: 40 },
    delayMs: { help: 'how long each request waits or blocks, ms', default: 3000, quick: 300, min: 1, max: 600_000 },
    pool: { help: "threads per process (FastAPI's limiter is 40 in every uvicorn worker)", default: 40, quick: 10, max: 1024 },
  },
  lists: {
    workers: { help: 'K: processes to try', default: [1, 2, 4], quick: [1, 2], max: 64 },
  },
  texts: {
    python: pythonFlag('uvicorn'),
  },
  // Where uvicorn's workers take the connections varies from burst to burst: three of each, with the range.
  defaultRepeat: 3,
}).withResults<WorkersResults>();
const { flags } = experiment;
const P = flags.pool;

// 1. Who runs: server.ts always; uvicorn where a Python has FastAPI (else that half is skipped, and said so).
const search = await findFastApiPython(flags.python ? [flags.python] : PYTHON_CANDIDATES);
const fastapiSkipped = 'missing' in search ? `${search.missing} ${HOW_TO_INSTALL}` : null;
if (fastapiSkipped) experiment.say(`uvicorn skipped: ${fastapiSkipped}`);
// Every process that may serve, by PID, so that one handed no connection counts as 0 in a split, not as absent:
// server.ts's /stats names its workers (one process: itself), uvicorn's workers each print a ready line with theirs.
const servers: {
  name: 'hono' | 'fastapi';
  start: (k: number) => Promise<ServerProcess>;
  pids: (server: TargetServer & ServerProcess) => Promise<string[]>;
}[] = [
  {
    name: 'hono',
    start: async (k) => experiment.watch(await experiment.startServer({ poolSize: P, delayMs: flags.delayMs, workers: k })),
    pids: async (server) => {
      const stats = (await server.stats?.()) as Partial<ClusterStats> | undefined;
      return stats?.perWorker ? Object.keys(stats.perWorker) : [String(server.pid)];
    },
  },
  ...('missing' in search
    ? []
    : [
        {
          name: 'fastapi' as const,
          start: async (k: number) =>
            experiment.watch(await startFastApi({ python: search.python, delayMs: flags.delayMs, threadLimit: P, workers: k })),
          pids: async (server: ServerProcess) => uvicornWorkerPids(server),
        },
      ]),
];

/** Answers per process, every process named: 0 for one that served nothing. */
const everyProcess = (pids: string[], perWorker: Record<string, number> | undefined) => ({
  ...Object.fromEntries(pids.map((pid) => [pid, 0])),
  ...perWorker,
});

/** The model from the split that really happened: the busiest process's waves. */
const splitModelMs = (perWorker: Record<string, number> | undefined, poolSize: number | null) =>
  Math.max(0, ...Object.values(perWorker ?? {}).map((n) => predictTotalMs({ requests: n, poolSize, delayMs: flags.delayMs })));

// 2. For each K, each server: the sync burst and the async one; how they spread; what the processes hold.
const memory: { server: string; workers: number; processes: number; rssBytes: number }[] = [];
for (const k of flags.workers) {
  for (const { name, start, pids: pidsOf } of servers) {
    await experiment.withServer(
      () => start(k),
      async (server: TargetServer & ServerProcess) => {
        const pids = await pidsOf(server);
        if (pids.length !== k) experiment.fail(`${name} --workers ${k}: ${pids.length} processes named themselves, not ${k}`);
        for (const [kind, endpoint, poolSize] of [
          ['sync', '/sync-test', P],
          ['async', '/asyncio-test', null],
        ] as const) {
          const m = await experiment.measure(server, {
            label: WORKERS.burst(name, kind, k),
            endpoint,
            poolSize,
            requests: flags.requests,
            delayMs: flags.delayMs,
            // The even split: K pools of P.
            predictedMs: predictTotalMs({
              requests: flags.requests,
              poolSize: poolSize === null ? null : k * poolSize,
              delayMs: flags.delayMs,
            }),
            extra: { workers: k },
          });
          // Each burst's split, and the model it implies; the measurement's own is that of its median burst.
          m.perWorker = everyProcess(pids, m.perWorker);
          experiment.amend(m, {
            predictedFromSplitMs: splitModelMs(m.requests.length > 0 ? countByWorker(m) : m.perWorker, poolSize),
            splits: (m.repeats?.runs ?? []).map((run) => ({
              perWorker: everyProcess(pids, run.perWorker),
              totalMs: run.totalMs,
              predictedFromSplitMs: splitModelMs(run.perWorker, poolSize),
            })),
          });
          const counted = Object.values(m.perWorker ?? {}).reduce((a, b) => a + b, 0);
          if (counted !== m.ok)
            experiment.fail(`${m.label}: the X-Worker counts add up to ${counted}, not to the ${m.ok} answers`);
        }
        const rss = treeRss(server.pid);
        if (rss) memory.push({ server: name, workers: k, ...rss });
      },
    );
  }
}

// 3. One table: totals beside both models, and each burst's split.
experiment.say(`\nMORE WORKERS — ${flags.requests} concurrent requests of ${flags.delayMs} ms, ${P} threads per process\n`);
experiment.say(
  formatTable(
    ['measurement', 'K', 'total ms', 'even split ms', 'from the split ms', 'splits (per burst)', 'ok', 'errors'],
    experiment.measurements.map((m) => [
      m.label,
      String(m.workers),
      totalWithRange(m),
      ms(m.predictedMs),
      ms(m.predictedFromSplitMs),
      (m.splits ?? []).map((s) => splitText(s.perWorker, { count: m.workers })).join('; '),
      m.ok,
      m.errors,
    ]),
  ),
);
experiment.say(
  `\nmemory of all processes, after the bursts: ${memory.map((x) => `${x.server} K=${x.workers} ${(x.rssBytes / 2 ** 20).toFixed(0)} MB (${x.processes} process${x.processes === 1 ? '' : 'es'})`).join(', ')}`,
);

await experiment.finish({ memory, ...(fastapiSkipped ? { fastapiSkipped } : {}) });

/** The split of the measurement's own requests (its median burst), by X-Worker. */
function countByWorker(m: Measurement): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of m.requests) if (r.worker !== undefined && isOk(r)) counts[r.worker] = (counts[r.worker] ?? 0) + 1;
  return counts;
}
