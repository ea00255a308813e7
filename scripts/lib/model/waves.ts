/**
 * Waves, read from the completions alone: how many requests a server served at once.
 *
 * A pool of P serves N requests of D each in waves: P end together after D, the next P after 2 · D, and so on. No
 * request of a later wave can end before the earliest end of the wave before it plus D: it waited for a place that
 * some request freed, then took D itself. So a wave is every request that ends within half a D of the wave's
 * earliest end, and the next one to end opens the next wave. Half a D, not a whole one, so that the few ms a
 * clock on the client's side adds or loses (a busy event loop, a slower machine) cannot move a request across.
 *
 * And a new wave opens only after a gap: its first end comes at least a quarter of a D after the end before it.
 * A later wave always does (it waited for a place, then took D). Completions that keep coming without a gap are a
 * server slow to take the burst in (10 000 requests, or 256 on a machine a quarter as fast): each was served as it
 * arrived, and however late, it belongs to the wave it continues.
 *
 * The tests count waves this way instead of holding a total to a number of ms, and find-pool reads P from the
 * first wave: the shape of the completions, not the speed of the machine.
 */

export interface Wave {
  /** Requests that ended in this wave. */
  size: number;
  /** Its earliest and its latest end, ms from the burst's start. */
  firstEndMs: number;
  lastEndMs: number;
}

/** The completions (end times, ms) in waves, earliest first. */
export function wavesOf(requests: readonly { endMs: number }[], delayMs: number): Wave[] {
  return groupInWaves(requests, delayMs).map((members) => ({
    size: members.length,
    firstEndMs: members[0]!.endMs,
    lastEndMs: members.at(-1)!.endMs,
  }));
}

/** The requests themselves in waves, earliest first, each wave's in the order they ended. */
export function groupInWaves<T extends { endMs: number }>(requests: readonly T[], delayMs: number): T[][] {
  if (!(delayMs > 0)) throw new RangeError(`a wave needs a positive D, got ${delayMs}`);
  const waves: T[][] = [];
  for (const request of [...requests].sort((a, b) => a.endMs - b.endMs)) {
    const current = waves.at(-1);
    const joins =
      current !== undefined &&
      (request.endMs < current[0]!.endMs + delayMs / 2 || request.endMs < current.at(-1)!.endMs + delayMs / 4);
    if (joins) current.push(request);
    else waves.push([request]);
  }
  return waves;
}

/** How many requests each wave held, e.g. [40, 40, 20]. */
export function waveSizes(requests: readonly { endMs: number }[], delayMs: number): number[] {
  return wavesOf(requests, delayMs).map((wave) => wave.size);
}
