/**
 * The README's pictures of the live page: scripts/live.ts started as a user starts it, the blog's sync scenario
 * fired through the page in Chromium (its defaults: N = 100, P = 40, D = 3 s), a screenshot half-way (the first
 * wave back, the rest still waiting) and one when it has ended. Not a test: run it by hand, alone on the machine,
 * after the results are committed:
 *
 *   node --import tsx test/live-screenshot.ts        # writes results/live-sync-mid.png, results/live-sync.png,
 *                                                     # and the burst, saved from the page, as results/live.json
 *   npx tsx scripts/report.ts                         # docs/live-page.md quotes live.json: write it again
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import { ROOT } from './run-script.ts';
import type { LiveMeasurement } from '../scripts/lib/live/events.ts';

// The page saves into results/, as a user's Save does; this burst replaces whatever live.json held.
const out = join(ROOT, 'results');
await rm(join(out, 'live.json'), { force: true });
const live = spawn(process.execPath, ['--import', 'tsx', 'scripts/live.ts', '--port', '0', '--out', out, '--quiet'], {
  cwd: ROOT,
  stdio: ['ignore', 'pipe', 'inherit'],
});
try {
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: live.stdout }).on('line', (line) => {
      const found = /http:\/\/127\.0\.0\.1:\d+\//.exec(line);
      if (found) resolve(found[0]);
    });
    live.once('exit', (code) => reject(new Error(`live.ts exited first (${code})`)));
  });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${url}?scenario=sync&fire=1`);
  await page.waitForFunction("document.querySelectorAll('[data-end-ms]').length >= 40", null, { timeout: 60_000 });
  await page.waitForTimeout(1500); // half-way through the second wave, for the picture
  await page.screenshot({ path: join(ROOT, 'results', 'live-sync-mid.png') });
  await page.waitForFunction("document.body.dataset.state === 'done'", null, { timeout: 60_000 });
  await page.screenshot({ path: join(ROOT, 'results', 'live-sync.png'), fullPage: true });
  const result = await page.evaluate<LiveMeasurement>('window.liveResult');
  // The figures the README quotes, from the burst itself: saved into results/live.json, which report.ts reads.
  await page.click('#save');
  await page.waitForFunction("/saved as/.test(document.getElementById('status').textContent)");
  // The pool as the server recorded it, task by task (exact: no sample in between).
  const pool = (result.poolSteps ?? []).filter((step) => step.link === 'pool');
  const queuedAt = (ms: number) => pool.findLast((step) => step.atMs <= ms)?.queued;
  console.log(
    `sync N=100 P=40 D=3000: ${result.totalMs} ms, model ${result.predictedMs} ms, waves ${result.waves?.join(' + ')}; ` +
      `pool threads busy at most ${Math.max(...pool.map((step) => step.busy))}, ` +
      `queued ${queuedAt(1500)} in the first wave, ${queuedAt(4500)} in the second, ${queuedAt(7500)} in the third`,
  );
  await browser.close();
} finally {
  live.kill('SIGTERM');
  await new Promise((resolve) => live.once('exit', resolve));
}
