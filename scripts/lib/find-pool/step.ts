/**
 * What one burst says: its answers counted (served, refused, failed), its waves read from the completions with the wave
 * unit, its earliest answer, its slowest connect, and its answers per process. Pure: the search (./search.ts) fires
 * the bursts and reads each with readStep; the verdict (./verdict.ts) and the tests read the steps.
 */
import { errorKindOf, isOk, isRefusal, type BurstResult } from '../client/burst-types.ts';
import { wavesOf } from '../model/waves.ts';
import { round3 } from '../../../server/numbers.ts';

/** Why a burst was fired. */
export type Purpose =
  | 'first'
  | 'doubling'
  | 'N = P'
  | 'N = P + 1'
  | 'N = 2P + 1'
  | 'refusals?'
  | 'settle'
  | 'N = A'
  | 'N = A + 1';

/** One burst and what its completions say. */
export interface Step {
  requests: number;
  purpose: Purpose;
  burst: BurstResult;
  /** 2xx answers. */
  ok: number;
  /** Refused: 503 or 429 answers, and connections reset or closed without an answer. */
  refused: number;
  refusedKinds: Record<string, number>;
  /** Anything else: another status, a timeout. */
  failed: number;
  failedKinds: Record<string, number>;
  /** The earliest 2xx answer, timed from its connect, ms: one wave's time (D, or more where the work shares cores). */
  firstMs: number | null;
  /** The 2xx answers in waves of the wave unit, earliest first. */
  waves: number[];
  /** The slowest connect, ms: a server slow to accept (a full accept queue in the kernel) shows here. */
  slowestConnectMs: number;
  /** Answers per process, where the answers name it (X-Worker, or --worker-header). */
  perWorker: Record<string, number>;
}

/** What one burst's completions say, read with the wave unit (D where known; this burst's own first answer before). */
export function readStep(requests: number, purpose: Purpose, burst: BurstResult, waveUnitMs: number): Step {
  const answered = burst.requests.filter(isOk);
  const refusedKinds: Record<string, number> = {};
  const failedKinds: Record<string, number> = {};
  const perWorker: Record<string, number> = {};
  for (const r of burst.requests) {
    const kind = errorKindOf(r);
    if (kind === null) {
      if (r.worker !== undefined) perWorker[r.worker] = (perWorker[r.worker] ?? 0) + 1;
      continue;
    }
    const kinds = isRefusal(kind) ? refusedKinds : failedKinds;
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  const firstMs = answered.length > 0 ? round3(Math.min(...answered.map((r) => r.endMs - r.startMs))) : null;
  // The unit is a request's own time alone (D): a later wave cannot end sooner than half of it after the one before,
  // also where the work shares the cores and each wave takes longer. The first burst's unit is its own answer.
  const unit = Number.isFinite(waveUnitMs) ? waveUnitMs : (firstMs ?? 1);
  return {
    requests,
    purpose,
    burst,
    ok: answered.length,
    refused: total(refusedKinds),
    refusedKinds,
    failed: total(failedKinds),
    failedKinds,
    firstMs,
    waves: answered.length > 0 ? wavesOf(answered, Math.max(unit, 0.001)).map((w) => w.size) : [],
    slowestConnectMs: round3(Math.max(0, ...burst.requests.map((r) => r.connectMs ?? 0))),
    perWorker,
  };
}

/** A process's own waves in a burst several processes shared: its answers alone, read with the wave unit. */
export function wavesOfProcess(step: Step, worker: string, waveUnitMs: number): number[] {
  return wavesOf(
    step.burst.requests.filter((r) => r.worker === worker && isOk(r)),
    waveUnitMs,
  ).map((w) => w.size);
}

function total(kinds: Record<string, number>): number {
  return Object.values(kinds).reduce((a, b) => a + b, 0);
}
