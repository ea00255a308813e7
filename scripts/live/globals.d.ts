/** What the live page sets for outside checks (docs/live-page.md, "What a browser test can rely on"). */
interface Window {
  liveResult?: import('../lib/live/events.ts').LiveMeasurement;
}
