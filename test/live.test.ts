/**
 * The live page in a real browser: Debian's Chromium driven by playwright-core (no browser download), against
 * scripts/live.ts run as a user runs it, which starts the real server. What a person would see is checked: the
 * bars, the waves at the model's boundaries, the table beside the streamed figures, a replay of a committed file, a
 * page closed mid-burst, Stop, a second Fire, a refused setting, the keyboard, a phone-sized window; and that
 * stopping the script stops what it started. Skipped, with the reason, where no Chromium is installed.
 */
import { test, describe, before, after } from './harness.ts';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { waveSizes } from '../scripts/lib/model/waves.ts';
import { isRunning, processTree } from '../scripts/lib/processes/process-tree.ts';
import type { LiveMeasurement } from '../scripts/lib/live/events.ts';
import type { ResultsFile } from '../scripts/lib/results/types.ts';
import { ROOT, embeddedPostgresProcesses, runScript, serverChildrenOf } from './run-script.ts';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((path) => existsSync(path));
/** A name that resolves to 127.0.0.1 in the test's browser only, as a rebinding site's would. */
const REBOUND_HOST = 'rebound.example';
const skip = CHROMIUM ? false : 'no Chromium on this machine (apt-get install chromium): the browser tests need one';

describe('the live page, in Chromium', { skip }, () => {
  let live: ChildProcess;
  let url = '';
  let out = '';
  let browser: Browser;
  const serversSeen = new Set<number>();

  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'live-'));
    live = spawn(process.execPath, ['--import', 'tsx', 'scripts/live.ts', '--port', '0', '--out', out, '--quiet'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: live.stdout! }).on('line', (line) => {
        const found = /http:\/\/127\.0\.0\.1:\d+\//.exec(line);
        if (found) resolve(found[0]);
      });
      live.once('exit', (code) => reject(new Error(`live.ts exited first (${code})`)));
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM!,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--no-first-run',
        // What a DNS-rebinding site achieves: its own name resolving to this machine.
        `--host-resolver-rules=MAP ${REBOUND_HOST} 127.0.0.1`,
      ],
    });
  });

  after(async () => {
    await browser?.close();
    if (live && live.exitCode === null) {
      live.kill('SIGKILL');
      await new Promise((resolve) => live.once('exit', resolve));
    }
    for (const pid of serversSeen) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    await rm(out, { recursive: true, force: true });
  });

  /** A page, closed after the test; the servers live.ts runs are noted, to check they are stopped at the end. */
  async function open(
    t: { after: (fn: () => unknown) => void },
    query: string,
    viewport = { width: 1280, height: 800 },
    base = url,
  ) {
    const page = await browser.newPage({ viewport });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    t.after(async () => {
      for (const pid of serverChildrenOf(live.pid!)) serversSeen.add(pid);
      await page.close().catch(() => {});
      assert.deepEqual(errors, [], 'no error in the page');
    });
    await page.goto(`${base}${query}`);
    return page;
  }
  // (What runs in the page is given as text: this file is type-checked for Node, without the DOM's types.)
  const stateOf = (page: Page) => page.evaluate<string>('document.body.dataset.state');
  const until = (page: Page, state: string, timeout = 120_000) =>
    page.waitForFunction(`document.body.dataset.state === ${JSON.stringify(state)}`, null, { timeout });
  const bars = (page: Page) =>
    page.$$eval('[data-request-id]', (elements) =>
      elements.map((e) => ({
        id: Number(e.getAttribute('data-request-id')),
        endMs: e.hasAttribute('data-end-ms') ? Number(e.getAttribute('data-end-ms')) : null,
        status: e.hasAttribute('data-status') ? Number(e.getAttribute('data-status')) : null,
      })),
    );
  const result = (page: Page) => page.evaluate<LiveMeasurement>('window.liveResult');
  const answered = (page: Page, n: number) =>
    page.waitForFunction(`document.querySelectorAll('[data-end-ms]').length >= ${n}`, null, { timeout: 60_000 });
  const api = async <T>(path: string, method = 'GET') => (await fetch(`${url}${path.slice(1)}`, { method })).json() as Promise<T>;

  test('Fire (N = 10, P = 4, D = 300): 10 bars, three waves at the model’s boundaries, the table’s figures the streamed ones, the pool gauge', async (t) => {
    const page = await open(t, '?scenario=sync&requests=10&pool=4&delayMs=300&fire=1');
    await until(page, 'done');
    const drawn = await bars(page);
    assert.equal(drawn.length, 10);
    assert.ok(
      drawn.every((b) => b.status === 200 && b.endMs !== null),
      JSON.stringify(drawn),
    );
    const ends = drawn.map((b) => ({ endMs: b.endMs! }));
    assert.deepEqual(waveSizes(ends, 300), [4, 4, 2], `ends at ${ends.map((e) => e.endMs)}`);
    // The boundaries the model drew, and no answer of wave k before k · D (a request waits, then takes D).
    const boundaries = await page.$$eval('line.boundary', (lines) =>
      lines.map((l) => Number(l.getAttribute('data-boundary-ms'))),
    );
    assert.deepEqual(boundaries, [300, 600, 900]);
    const sorted = ends.map((e) => e.endMs).sort((a, b) => a - b);
    for (const [i, end] of sorted.entries()) assert.ok(end >= boundaries[Math.floor(i / 4)]!, `answer ${i + 1} at ${end} ms`);
    // The result and the table say what the bars say.
    const r = await result(page);
    assert.equal(r.label, 'sync N=10 P=4 D=300');
    assert.equal(r.concurrency, 10);
    assert.equal(r.predictedMs, 900);
    assert.deepEqual(
      r.requests.map((q) => q.endMs).sort((a, b) => a - b),
      sorted,
    );
    assert.equal(r.totalMs, Math.max(...sorted));
    const cell = (name: string) => page.textContent(`[data-cell="${name}"]`);
    // As the page writes a time: ms below a second, else seconds to the hundredth (a slow machine's burst can take 1.08 s).
    assert.equal(await cell('total'), r.totalMs >= 1000 ? `${(r.totalMs / 1000).toFixed(2)} s` : `${r.totalMs.toFixed(0)} ms`);
    assert.equal(await cell('model'), '900 ms');
    assert.equal(await cell('ok'), '10');
    assert.equal(await cell('errors'), '0');
    assert.equal(await cell('waves'), '4 + 4 + 2');
    // The server's pool while it ran, exact (its record of every task, on the burst's clock): every step lands within
    // max(25 ms, 0.1 · D) of its wave's end (the k-th wave's answers; the burst's start for the intake), 4 busy and
    // 6, 2, then 0 queued in the three waves, and the picture ends with the pool empty.
    const steps = (r.poolSteps ?? []).filter((step) => step.link === 'pool');
    assert.equal(steps.length, 30, 'one step per change: 10 tasks queued, started and ended');
    const tolerance = Math.max(25, 0.1 * 300);
    const waves = [0, 4, 8].map((first) => [sorted[first]!, sorted[Math.min(first + 3, 9)]!] as const);
    let ended = 0;
    let previous = { busy: 0, queued: 0 };
    for (const step of steps) {
      // A task ended (the j-th belongs to wave ⌈j / 4⌉), or started on the thread one freed; the rest is the intake.
      if (step.busy < previous.busy) ended++;
      const intake = step.queued > previous.queued || ended === 0;
      if (intake) {
        assert.ok(step.atMs < sorted[0]!, `the intake's step ${JSON.stringify(step)} before the first answer`);
      } else {
        const [from, to] = waves[Math.ceil(ended / 4) - 1]!;
        const off = Math.max(from - step.atMs, step.atMs - to, 0);
        assert.ok(off <= tolerance, `${JSON.stringify(step)}: ${off.toFixed(1)} ms from its wave's end (${from}–${to} ms)`);
      }
      previous = step;
    }
    assert.equal(ended, 10);
    const at = (ms: number) => steps.findLast((step) => step.atMs <= ms) ?? { busy: 0, queued: 0 };
    assert.deepEqual(
      [150, 450, 750].map((ms) => [at(ms).busy, at(ms).queued]),
      [
        [4, 6],
        [4, 2],
        [2, 0],
      ],
    );
    assert.deepEqual([steps.at(-1)!.busy, steps.at(-1)!.queued], [0, 0], 'the pool ends empty');
    const legend = (gauge: string) => page.textContent(`#gauge-legend [data-gauge="${gauge}"]`);
    assert.match((await legend('busy')) ?? '', /: 0$/);
    assert.match((await legend('queued')) ?? '', /: 0$/);
    assert.match((await legend('inFlight')) ?? '', /: 0$/);
    // Each bar in its segments, from the server's Server-Timing: served (dark) at least D up to its answer, and
    // before it, light, the wait, a wave's more than the one before it by about D.
    const served = await page.$$eval('rect.served', (rects) => rects.map((rect) => Number(rect.getAttribute('data-served-ms'))));
    const byEnd = [...r.requests].sort((a, b) => a.endMs - b.endMs);
    const runs = byEnd.map((q) => q.serverTiming?.['pool-run'] ?? 0);
    assert.deepEqual(
      served.sort((a, b) => a - b),
      [...runs].sort((a, b) => a - b),
    );
    assert.ok(
      runs.every((ms) => ms >= 300),
      `pool-run ${runs}`,
    );
    const waited = byEnd.map((q, i) => q.endMs - q.startMs - runs[i]!);
    const lightest = (from: number, to: number) => Math.min(...waited.slice(from, to));
    const heaviest = (from: number, to: number) => Math.max(...waited.slice(from, to));
    assert.ok(
      lightest(4, 8) - heaviest(0, 4) >= 150 && lightest(8, 10) - heaviest(4, 8) >= 150,
      `waits ${waited.map(Math.round)}`,
    );
    // The /stats lag gauge is still sampled beside them.
    assert.ok(r.samples.length >= 2, `${r.samples.length} samples`);

    // Save: the burst in the results contract, in --out, which report.ts reads.
    await page.click('#save');
    await page.waitForFunction("/saved as/.test(document.getElementById('status').textContent)");
    const saved = JSON.parse(await readFile(join(out, 'live.json'), 'utf8')) as ResultsFile<object, LiveMeasurement>;
    assert.equal(saved.experiment, 'live');
    assert.equal(saved.measurements.at(-1)?.label, 'sync N=10 P=4 D=300');
    assert.deepEqual(saved.measurements.at(-1)?.requests, r.requests);
    const report = runScript('report.ts', ['--out', out]);
    assert.equal(report.status, 0, report.stderr);
    assert.match(await readFile(join(out, 'REPORT.md'), 'utf8'), /## live/);
  });

  test('replay of a committed file: every bar ends where the file says', async (t) => {
    const file = JSON.parse(await readFile(join(ROOT, 'results', 'async-vs-sync.json'), 'utf8')) as ResultsFile;
    const recorded = file.measurements.find((m) => m.label === 'sync')!;
    const page = await open(t, '?replay=async-vs-sync.json&label=sync&speed=16');
    await until(page, 'done');
    const drawn = await bars(page);
    assert.equal(drawn.length, recorded.requests.length);
    const byId = new Map(recorded.requests.map((q) => [q.id, q]));
    for (const bar of drawn) {
      assert.equal(bar.endMs, byId.get(bar.id)!.endMs, `request ${bar.id}`);
      assert.equal(bar.status, byId.get(bar.id)!.status);
    }
    assert.equal((await result(page)).label, 'sync');
  });

  test('a page closed mid-burst loses nothing: another page shows the whole burst', async (t) => {
    const first = await browser.newPage();
    // The first test's settings: its server serves this burst too (a page closed once the first wave is back).
    await first.goto(`${url}?scenario=sync&requests=10&pool=4&delayMs=300&fire=1`);
    await answered(first, 2);
    const seen = (await bars(first)).filter((b) => b.endMs !== null);
    await first.close();

    const page = await open(t, '');
    await until(page, 'done');
    const r = await result(page);
    assert.equal(r.concurrency, 10);
    assert.equal(r.ok, 10);
    const drawn = await bars(page);
    assert.ok(drawn.every((b) => b.endMs !== null));
    for (const bar of seen) assert.equal(drawn.find((b) => b.id === bar.id)?.endMs, bar.endMs, `request ${bar.id}`);
    // The form, the model and the lesson show that burst's settings (this page was opened with none of its own).
    assert.equal(await page.inputValue('input[name="requests"]'), '10');
    assert.match((await page.textContent('#model')) ?? '', /ceil\(10 \/ 4\) · 300 ms/);
    assert.match((await page.textContent('#lesson')) ?? '', /a pool of 4 threads serves 10 requests in three waves/);
  });

  test('Stop ends the burst in flight and marks it interrupted; what was answered is kept; a Stop that got no answer can be pressed again', async (t) => {
    const page = await open(t, '?scenario=sync&requests=4&pool=1&delayMs=1000&fire=1');
    await answered(page, 1);
    // A Stop that gets no answer says so, and Stop works again.
    await page.route('**/api/stop', (route) => route.abort('connectionrefused'));
    await page.keyboard.press('Escape'); // the Stop button's key
    await page.waitForFunction("/Stop failed: the script did not answer/.test(document.getElementById('error').textContent)");
    await page.waitForSelector('#stop:not([disabled])');
    assert.equal(await stateOf(page), 'firing');
    await page.unroute('**/api/stop');
    await page.keyboard.press('Escape');
    await until(page, 'done');
    const r = await result(page);
    assert.equal(r.interrupted, true);
    assert.ok(r.ok >= 1 && r.ok < 4, `${r.ok} answered`);
    assert.equal(r.errorCounts.interrupted, 4 - r.ok);
    assert.equal((await bars(page)).filter((b) => b.status === 0).length, 4 - r.ok);
    assert.match((await page.textContent('[data-cell="total"]')) ?? '', /stopped/);
  });

  test('a second Fire while one runs is refused, and the burst in flight goes on', async (t) => {
    // The Stop test's server. The burst is far longer than the test needs (30 s at a pool of 1), and the test ends it
    // with Stop once it has seen it go on: opening a second page took over 3 s under half this machine's CPU, and a
    // burst of 3 s had ended before the second Fire was asked, so it was not refused.
    const page = await open(t, '?scenario=sync&requests=30&pool=1&delayMs=1000&fire=1');
    await until(page, 'firing');
    const other = await open(t, '');
    await until(other, 'firing');
    assert.equal(await other.isDisabled('#fire'), true, 'Fire is disabled while a burst runs');
    // As a page would ask (its button is disabled): straight to the script.
    const answer = await fetch(`${url}api/fire`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"scenario":"async"}',
    });
    const refused = { status: answer.status, body: (await answer.json()) as { detail: string } };
    assert.equal(refused.status, 409);
    assert.match(refused.body.detail, /already running/);
    // The burst goes on: an answer after the refusal, on both pages, then Stop.
    const before = (await bars(page)).filter((b) => b.endMs !== null).length;
    assert.ok(before < 30, `the burst was still running at the refusal (${before} of 30 answered)`);
    await answered(page, before + 1);
    await answered(other, before + 1);
    await page.keyboard.press('Escape');
    await until(page, 'done');
    const r = await result(page);
    assert.equal(r.concurrency, 30);
    assert.equal(r.interrupted, true);
    assert.ok(r.ok > before, `${r.ok} answered, ${before} at the refusal`);
    assert.equal(r.errorCounts.interrupted, 30 - r.ok, 'the rest stopped, none failed');
  });

  test('the server killed under a burst: the page says the burst could not run, and the next Fire starts a new server', async (t) => {
    const page = await open(t, '?scenario=sync&requests=4&pool=1&delayMs=1000&fire=1');
    await answered(page, 1);
    const [server] = serverChildrenOf(live.pid!);
    assert.ok(server, 'the burst’s server runs');
    process.kill(server, 'SIGKILL');
    await until(page, 'failed');
    assert.match((await page.textContent('#error')) ?? '', /could not run: the server exited during the burst \(SIGKILL\)/);
    assert.equal(await page.isDisabled('#fire'), false, 'Fire works again');
    // The next Fire, with the next test's settings (its server then serves that test too).
    await page.selectOption('#scenario', 'async');
    await page.fill('input[name="requests"]', '2');
    await page.fill('input[name="delayMs"]', '100');
    await page.click('#fire');
    await until(page, 'done');
    assert.equal((await result(page)).ok, 2);
    assert.notDeepEqual(serverChildrenOf(live.pid!), [server], 'a new server');
  });

  test('a Fire or a model question that gets no answer (or not JSON) says what failed; Fire works again', async (t) => {
    const page = await open(t, '?scenario=async&requests=2&delayMs=100');
    await page.waitForSelector('#fire:not([disabled])');
    const before = await api<{ bursts: number }>('/api/state');
    await page.route('**/api/fire', (route) => route.abort('connectionrefused'));
    await page.click('#fire');
    await until(page, 'failed');
    assert.match((await page.textContent('#error')) ?? '', /Fire failed: the script did not answer/);
    assert.equal(await page.isDisabled('#fire'), false);
    await page.unroute('**/api/fire');
    await page.route('**/api/fire', (route) =>
      route.fulfill({ status: 502, contentType: 'text/html', body: '<h1>Bad Gateway</h1>' }),
    );
    await page.click('#fire');
    await page.waitForFunction(
      "/Fire failed: the script answered 502 .*not JSON/.test(document.getElementById('error').textContent)",
    );
    assert.equal(await stateOf(page), 'failed');
    await page.unroute('**/api/fire');
    assert.equal((await api<{ bursts: number }>('/api/state')).bursts, before.bursts, 'nothing was fired');
    // The model's question, unanswered: said beside the model; Fire still fires.
    await page.route('**/api/model?*', (route) => route.abort('connectionrefused'));
    await page.fill('input[name="requests"]', '3');
    await page.waitForFunction(
      "/The model could not be had: the script did not answer/.test(document.getElementById('error').textContent)",
    );
    await page.unroute('**/api/model?*');
    await page.click('#fire');
    await until(page, 'done');
    assert.equal((await result(page)).ok, 3);
    assert.equal(await page.textContent('#error'), '');
  });

  test('model answers out of order: the box shows the model of the settings the form holds, and the lesson in their words', async (t) => {
    const page = await open(t, '?scenario=sync&requests=10&pool=4&delayMs=300');
    await page.waitForFunction("document.getElementById('model').textContent.includes('ceil(10 / 4)')");
    assert.match((await page.textContent('#lesson')) ?? '', /for 300 ms; a pool of 4 threads serves 10 requests in three waves/);
    // The question for N = 5 is held until the one for N = 7 has been answered, then let go.
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let asked = () => {};
    const askedFor5 = new Promise<void>((resolve) => (asked = resolve));
    let late: Promise<unknown> = Promise.resolve();
    await page.route('**/api/model?*', (route) => {
      if (new URL(route.request().url()).searchParams.get('requests') !== '5') return route.continue();
      asked();
      late = held.then(() => route.continue()).catch(() => 'aborted by the page');
      return late;
    });
    const aborted = new Promise<string>((resolve) =>
      page.on('requestfailed', (request) => {
        if (request.url().includes('requests=5')) resolve(request.failure()?.errorText ?? '');
      }),
    );
    await page.fill('input[name="requests"]', '5');
    await askedFor5;
    await page.fill('input[name="requests"]', '7');
    await page.waitForFunction("document.getElementById('model').textContent.includes('ceil(7 / 4)')");
    assert.match(await aborted, /ERR_ABORTED/, 'the older question was aborted');
    release();
    await late;
    assert.match((await page.textContent('#model')) ?? '', /ceil\(7 \/ 4\) · 300 ms/);
    assert.match((await page.textContent('#lesson')) ?? '', /a pool of 4 threads serves 7 requests in two waves/);
    assert.equal(await page.getAttribute('#model', 'data-query'), 'scenario=sync&requests=7&delayMs=300&pool=4');
  });

  test('a setting out of range is shown as an error and nothing is fired', async (t) => {
    const before = await api<{ bursts: number }>('/api/state');
    const page = await open(t, '?scenario=sync&requests=0&fire=1');
    await page.waitForFunction("document.getElementById('error').textContent !== ''");
    assert.match((await page.textContent('#error')) ?? '', /requests .* must be a whole number from 1 to 1000, got "0"/);
    assert.equal(await stateOf(page), 'idle');
    assert.equal((await api<{ bursts: number }>('/api/state')).bursts, before.bursts);
    assert.equal((await bars(page)).length, 0);
  });

  test('with the keyboard alone, on a phone-sized window: settings typed, Enter fires, nothing wider than the screen', async (t) => {
    const page = await open(t, '?scenario=async', { width: 390, height: 844 });
    await page.waitForSelector('#fire:not([disabled])'); // as a person waits for the page to be ready
    await page.focus('input[name="requests"]');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('3');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('100'); // D of the tests before and after: one server for them all
    await page.keyboard.press('Enter');
    await page.waitForFunction("document.body.dataset.state === 'done' && window.liveResult.label === 'async N=3 D=100'", null, {
      timeout: 60_000,
    });
    assert.equal(new URL(page.url()).searchParams.get('requests'), '3', 'the address holds the settings');
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the window`);
    assert.ok(await page.isVisible('#fire'));
  });

  test('another site cannot fire, save or read through the page: a cross-origin form or no-cors POST, a rebound name', async (t) => {
    const port = Number(new URL(url).port);
    const stateBefore = await api<{ bursts: number }>('/api/state');
    const savedBefore = await readFile(join(out, 'live.json'), 'utf8').catch(() => null);
    // The attacker: a page on another origin (another port of this machine) that tries what any site can.
    const attacker = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(attackPage(url));
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    t.after(() => attacker.close());
    const page = await browser.newPage();
    t.after(() => page.close());
    await page.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`);
    await page.waitForFunction("document.title === 'tried'", null, { timeout: 30_000 });
    // Its forms landed in frames: what the page answered them.
    const answers = await Promise.all(
      page
        .frames()
        .slice(1)
        .map((frame) => frame.textContent('body')),
    );
    assert.equal(answers.length, 2);
    for (const answer of answers)
      assert.match(
        answer ?? '',
        /"detail":"Unsupported Media Type: a POST to this page must be sent as Content-Type: application\/json"/,
      );
    assert.equal((await api<{ bursts: number }>('/api/state')).bursts, stateBefore.bursts, 'no burst was fired');
    assert.equal(await readFile(join(out, 'live.json'), 'utf8').catch(() => null), savedBefore, 'nothing was saved');

    // A rebinding site's name reaches this machine, and is refused: page, stream and results alike.
    const rebound = await browser.newPage();
    t.after(() => rebound.close());
    for (const path of ['/', '/live.js', '/state.js', '/api/results', '/api/events']) {
      const answer = await rebound.goto(`http://${REBOUND_HOST}:${port}${path}`);
      assert.equal(answer?.status(), 403, path);
      assert.match(await answer!.text(), /only to 127\.0\.0\.1:\d+ and localhost:\d+/);
    }
  });

  test('a POST must be JSON from the page itself; a foreign Host is refused; from localhost the page works', async (t) => {
    const port = Number(new URL(url).port);
    const post = (headers: Record<string, string>) =>
      rawRequest(port, 'POST', '/api/stop', { host: `127.0.0.1:${port}`, ...headers }, '{}');
    assert.equal((await post({})).status, 415, 'no Content-Type');
    assert.equal((await post({ 'content-type': 'text/plain' })).status, 415);
    assert.equal((await post({ 'content-type': 'application/json', origin: 'https://example.com' })).status, 403);
    assert.equal((await post({ 'content-type': 'application/json', origin: 'null' })).status, 403, 'Origin: null is foreign');
    assert.equal((await post({ 'content-type': 'application/json', origin: `http://localhost:${port}` })).status, 403);
    assert.equal(
      (await post({ 'content-type': 'application/json; charset=utf-8', origin: `http://127.0.0.1:${port}` })).status,
      200,
    );
    const foreign = await rawRequest(port, 'GET', '/api/state', { host: `evil.example:${port}` });
    assert.equal(foreign.status, 403);
    assert.match(JSON.parse(foreign.body).detail, /not to Host "evil\.example:\d+"/);
    assert.equal((await rawRequest(port, 'GET', '/api/state', { host: `127.0.0.1:${port + 1}` })).status, 403, 'another port');

    // The page itself, opened as localhost: Fire, Stop and Save all pass the guard.
    const page = await open(t, '?scenario=async&requests=2&delayMs=100&fire=1', undefined, url.replace('127.0.0.1', 'localhost'));
    await until(page, 'done');
    await page.click('#save');
    await page.waitForFunction("/saved as/.test(document.getElementById('status').textContent)");
    assert.equal((await result(page)).ok, 2);
  });

  test('every scenario fires and draws (small settings)', async (t) => {
    // With the pool each one's gauges follow (and how many of it the server has): none, the threads, the connections.
    for (const [scenario, query, link, most] of [
      ['blocking-loop', 'requests=2&delayMs=100', null, 0],
      ['cpu-loop', 'requests=2&delayMs=50', null, 0],
      ['cpu-pool', 'requests=3&delayMs=50&pool=2', 'pool', 2],
      ['hash', 'requests=3&delayMs=50&threads=2', null, 0],
      ['workers', 'requests=4&delayMs=200&pool=1&workers=2', 'pool', 2],
      ['db', 'requests=3&delayMs=200&pool=2', 'db', 2],
    ] as const) {
      const page = await open(t, `?scenario=${scenario}&${query}&fire=1`);
      await until(page, 'done', 180_000);
      const r = await result(page);
      const n = Number(new URLSearchParams(query).get('requests'));
      assert.equal(r.ok, n, `${scenario}: ${JSON.stringify(r.errorCounts)}`);
      assert.equal((await bars(page)).filter((b) => b.status === 200).length, n, scenario);
      if (scenario === 'workers') assert.equal(Object.keys(r.perWorker ?? {}).length >= 1, true);
      if (scenario === 'hash') assert.ok(r.samples.some((s) => s.fileReadMs !== undefined) || r.samples.length === 0);
      // The exact gauges: every task of the link queued, started and ended, never more busy than it has, ending empty.
      const steps = (r.poolSteps ?? []).filter((step) => step.link === link);
      assert.equal(steps.length, link ? 3 * n : 0, `${scenario}: ${JSON.stringify(r.poolSteps)}`);
      if (link) {
        const busiest = Math.max(...steps.map((step) => step.busy));
        assert.ok(busiest >= 1 && busiest <= most, `${scenario}: ${busiest} busy at most`);
        assert.deepEqual([steps.at(-1)!.busy, steps.at(-1)!.queued], [0, 0], `${scenario}: the pool ends empty`);
      }
      await page.close();
    }
  });

  test('SIGTERM stops the page and every process it started', async () => {
    const servers = serverChildrenOf(live.pid!);
    for (const pid of servers) serversSeen.add(pid);
    assert.ok(servers.length >= 1, 'a server was running');
    // The db scenario's PostgreSQL, judged by ancestry: another checkout's tests on the machine start their own.
    const tree = processTree(live.pid!);
    const postgres = embeddedPostgresProcesses().filter((pid) => tree.includes(pid));
    assert.ok(postgres.length >= 1, 'the db scenario’s PostgreSQL was running');
    live.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => live.once('exit', (c) => resolve(c)));
    assert.equal(code, 143);
    for (const pid of servers) assert.equal(isRunning(pid), false, `server ${pid} still runs`);
    assert.deepEqual(postgres.filter(isRunning), [], 'the db scenario’s PostgreSQL is stopped too');
  });
});

/** A page on another origin that tries, as any site could, to make the live page fire and save. */
function attackPage(live: string): string {
  // A text/plain form whose body parses as JSON: name `{"scenario":"async","requests":1,"x":"` and value `"}`.
  const form = (path: string, frame: string) =>
    `<form method="post" enctype="text/plain" target="${frame}" action="${live}api/${path}">` +
    `<input name='{"scenario":"async","requests":1,"delayMs":50,"x":"' value='"}'></form><iframe name="${frame}"></iframe>`;
  return `<!doctype html><body>${form('fire', 'a')}${form('save', 'b')}<script>
    (async () => {
      const body = JSON.stringify({ scenario: 'async', requests: 1, delayMs: 50 });
      for (const path of ['fire', 'save', 'stop']) {
        await fetch('${live}api/' + path, { method: 'POST', mode: 'no-cors', body }).catch(() => {});
        await fetch('${live}api/' + path, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body }).catch(() => {});
      }
      const loaded = [...document.querySelectorAll('iframe')].map((f) => new Promise((r) => f.addEventListener('load', r, { once: true })));
      for (const f of document.forms) f.submit();
      await Promise.all(loaded);
      document.title = 'tried';
    })();
  </script></body>`;
}

/** One request with exactly these headers (fetch would set Host itself). */
function rawRequest(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, setHost: false }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
