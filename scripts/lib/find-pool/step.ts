/**
 * What one burst says: its answers counted (served, refused, failed), its waves read from the completions with the wave
 * unit, its earliest answer, its slowest connect, and its answers per process. Pure: the search (./search.ts) fires
 * the bursts and reads each with readStep; the verdict (./verdict.ts) and the tests read the steps.
 */
import { errorKindOf, isOk, isRefusal, type BurstResult, type RequestRecord } from '../client/burst-types.ts';
import { groupInWaves, wavesOf } from '../model/waves.ts';
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
  /** The 2xx answers in waves of the wave unit, earliest first, read from when each ended. */
  waves: number[];
  /**
   * Answers of a later wave that the server served as soon as it took them (their own time, from their connect's
   * completion, within a quarter more than the burst's quickest): they ended late only because they were taken late.
   * Its intake, not its pool, put them there.
   */
  late: number;
  /** The waves from each request's own start of service: `waves` without the late answers (the pool's waves). */
  poolWaves: number[];
  /** The slowest connect, ms: a server slow to accept (a full accept queue in the kernel) shows here. */
  slowestConnectMs: number;
  /** Answers per process, where the answers name it (X-Worker, or --worker-header). */
  perWorker: Record<string, number>;
}

/**
 * A request of a later wave waited for a place once taken if its own time (from its connect's completion) went this
 * far beyond the burst's quickest: a quarter of D more, the gap that opens a wave (../model/waves.ts). Requests served
 * at once end within a few per cent of each other (the first answers of a pool's bursts: 1.0 to 1.11 · D).
 */
const WAITED = 1.25;

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
  const waves = answered.length > 0 ? groupInWaves(answered, Math.max(unit, 0.001)) : [];
  // Late: served as soon as it was taken (its own time from its connect's completion within a quarter more than the
  // burst's quickest), yet ended in a later wave: it was taken late. Against the burst's own quickest, not the first
  // request alone, which can be the coldest (1.2 · D under half this machine's CPU).
  const takenAt = (r: RequestRecord) => r.startMs + (r.connectMs ?? 0);
  const quickest = Math.min(...answered.map((r) => r.endMs - takenAt(r)));
  const takenLate = (r: RequestRecord, wave: number) => wave > 0 && r.endMs - takenAt(r) < quickest * WAITED;
  const lateIn = waves.map((wave, k) => wave.filter((r) => takenLate(r, k)).length);
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
    waves: waves.map((w) => w.length),
    late: lateIn.reduce((a, b) => a + b, 0),
    poolWaves: waves.map((w, k) => w.length - lateIn[k]!).filter((size) => size > 0),
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

/**
 * The server took connections slower than the burst came: a connect beyond this share of a request's own time. A
 * request taken that late can end in the gap that opens the next wave (a quarter of D: ../model/waves.ts). The
 * committed runs' slowest connects were at most 0.074 · D; a Java servlet container (backlog 100, one acceptor) made
 * some wait 1.05 s at D = 1 s.
 */
const SLOW_INTAKE = 0.25;

/** Whether the server's intake, not only its pool, shaped this burst: late answers, or connects that waited. */
export function shapedByIntake(step: Step, waveUnitMs: number): boolean {
  return step.late > 0 || step.slowestConnectMs > waveUnitMs * SLOW_INTAKE;
}
