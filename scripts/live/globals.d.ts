/** What the live page sets for outside checks (shared/DESIGN.md, "The live page"). */
interface Window {
  liveResult?: import('../lib/live/events.ts').LiveMeasurement;
}
