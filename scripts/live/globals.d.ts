/** What the live page sets for outside checks (scripts/README.md, "live: the page"). */
interface Window {
  liveResult?: import('../lib/live/events.ts').LiveMeasurement;
}
