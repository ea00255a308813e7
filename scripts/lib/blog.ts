/**
 * The blog's published figures: 100 concurrent requests to each endpoint, 3 s each, fired by 100 background
 * `curl` processes and timed with whole-second `date +%s`. Ours are compared against these.
 */
export const BLOG = { requests: 100, delayMs: 3000, asyncSeconds: 4, syncSeconds: 9 };
