/**
 * The blog's published figures: 100 concurrent requests to each endpoint, 3 s each, fired by 100 background
 * `curl` processes and timed with whole-second `date +%s`. It printed `ASYNC total time: 3s` and
 * `SYNC total time: 9s`. Ours are compared against these.
 */
export const BLOG = { requests: 100, delayMs: 3000, asyncSeconds: 3, syncSeconds: 9 };
