/**
 * The figures of the project's pages come from one place: the committed JSON in results/. In this process, running
 * nothing: the markers and the one rounding; every page (README.md, docs/, scripts/README.md, server/README.md, the
 * scripts' "Takes:") rendered from the committed results is exactly what is committed, so `report.ts` on a clean
 * checkout changes nothing; no measured-looking figure in their prose stands outside a marker; and no file of the
 * project cites one outside it.
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { FigureError, fieldOf, formatFigure, renderPage, withoutMarkers, type PageSources } from '../scripts/lib/view/figures.ts';
import { grouped, parseRounding } from '../scripts/lib/model/rounding.ts';
import { DERIVED, projectPages, renderProjectPages, renderTakes, TABLES } from '../scripts/pages/index.ts';
import { ROOT } from './run-script.ts';

test('one rounding: each unit from the JSON, integer parts of five digits and more grouped, never -0', () => {
  assert.equal(formatFigure(16.665, 'ms1'), '16.7 ms');
  assert.equal(formatFigure(3022.496, 's3'), '3.022 s', 'from the JSON, not from a figure already rounded to 3022.5');
  assert.equal(formatFigure(9014.462, 's3'), '9.014 s');
  assert.equal(formatFigure(1637.472, 'ms0'), '1637 ms');
  assert.equal(formatFigure(23625.996, 'ms0'), '23 626 ms');
  assert.equal(formatFigure(10_000, 'n0'), '10 000');
  assert.equal(formatFigure(41_168, 'dur'), '41 s');
  assert.equal(formatFigure(215_693, 'dur'), '3.6 min');
  assert.equal(formatFigure(0.0133, 'pct1'), '1.3 %');
  assert.equal(formatFigure(1.961, 'x2'), '1.96×');
  assert.equal(formatFigure(423_182_336, 'mb0'), '404 MB');
  assert.equal(formatFigure(1_789_022_208, 'gib2'), '1.67 GiB');
  assert.equal(formatFigure(166.65, 'us0'), '167 µs');
  assert.equal(formatFigure('AMD EPYC', 'text'), 'AMD EPYC');
  assert.equal(grouped(-0.0001, 1), '0.0');
  assert.equal(grouped(-12345.6, 1), '-12 345.6');
  assert.throws(() => parseRounding('seconds'), FigureError);
  assert.throws(() => formatFigure('3.0', 'ms1'), FigureError, 'a string is not a number');
  assert.throws(() => formatFigure(null, 's3'), FigureError);
});

const file = {
  measurements: [
    { label: 'P=10', totalMs: 30077.1, repeats: { totalsMs: [1, 2] } },
    { label: 'sync N=40', totalMs: 3022.496 },
  ],
  memory: [
    { server: 'hono', workers: 1, rssBytes: 1 },
    { server: 'hono', workers: 4, rssBytes: 4 },
    { server: 'fastapi', workers: 4, rssBytes: 5 },
  ],
  accounts: { 'async N=10000': { intakeMs: 696.429 } },
};

test('a field is found by its path: labels (with "=" and spaces in them), an element by its fields, an index', () => {
  assert.equal(fieldOf(file, '[P=10].totalMs'), 30077.1);
  assert.equal(fieldOf(file, '[sync N=40].totalMs'), 3022.496);
  assert.equal(fieldOf(file, '[P=10].repeats.totalsMs.1'), 2);
  assert.equal(fieldOf(file, 'memory{server=hono,workers=4}.rssBytes'), 4);
  assert.equal(fieldOf(file, 'accounts.async N=10000.intakeMs'), 696.429);
  assert.throws(() => fieldOf(file, '[P=20].totalMs'), /0 elements match P=20/);
  assert.throws(() => fieldOf(file, 'memory{workers=4}.rssBytes'), /2 elements match/);
  assert.throws(() => fieldOf(file, 'perRequest.health100Ms'), /no field "perRequest"/);
});

test('a page is written from its markers; one that cannot be written stays as it was, and is named', () => {
  const sources: PageSources = {
    results: {
      json: (name) => {
        if (name === 'x.json') return file;
        throw new FigureError(`${name} cannot be read (ENOENT)`);
      },
    },
    tables: { little: () => '| a |\n| - |\n| 1 |' },
    derived: { count: (json) => (json as typeof file).measurements.length },
  };
  const page = [
    'Ten threads took <!--fig x.json [P=10].totalMs s3-->?<!--/fig--> for <!--fig x.json =count n0-->?<!--/fig--> bursts.',
    '<!--table little-->',
    'stale',
    '<!--/table-->',
    'Gone: <!--fig y.json a.b ms1-->5 ms<!--/fig-->, <!--table nowhere-->',
    'old',
    '<!--/table-->',
  ].join('\n');
  const { text, unresolved } = renderPage(page, sources);
  assert.equal(
    text,
    [
      'Ten threads took <!--fig x.json [P=10].totalMs s3-->30.077 s<!--/fig--> for <!--fig x.json =count n0-->2<!--/fig--> bursts.',
      '<!--table little-->',
      '| a |\n| - |\n| 1 |',
      '<!--/table-->',
      'Gone: <!--fig y.json a.b ms1-->5 ms<!--/fig-->, <!--table nowhere-->',
      'old',
      '<!--/table-->',
    ].join('\n'),
  );
  assert.deepEqual(unresolved, ['table nowhere: no such table', 'fig y.json a.b ms1: y.json cannot be read (ENOENT)']);
  assert.equal(renderPage(text, sources).text, text, 'a written page is written the same again');
  // A script's "Takes:" says the committed run's time, written from summary.json.
  const summary = { experiments: [{ experiment: 'pool-sweep', durationMs: 94_446, status: 'ok' }] };
  const withSummary = { ...sources, results: { json: () => summary } };
  const header = '/**\n * Takes:  3 s in the committed run (results/summary.json); --quick: seconds.\n */';
  assert.equal(
    renderTakes(header, 'scripts/pool-sweep.ts', withSummary).after,
    '/**\n * Takes:  94 s in the committed run (results/summary.json); --quick: seconds.\n */',
  );
  assert.deepEqual(renderTakes(header, 'scripts/nowhere.ts', withSummary).unresolved, [
    'scripts/nowhere.ts: not in summary.json',
  ]);
});

test('every page and script header, written from the committed results, is what is committed: report.ts changes nothing', () => {
  const updates = renderProjectPages(join(ROOT, 'results'));
  assert.deepEqual(
    updates.flatMap((u) => u.unresolved.map((why) => `${u.page}: ${why}`)),
    [],
    'every marker resolves from the committed results',
  );
  for (const update of updates) {
    if (update.after === update.before) continue;
    const before = update.before.split('\n');
    const line = update.after.split('\n').findIndex((text, i) => text !== before[i]);
    assert.fail(`${update.page} differs from its results at line ${line + 1}: run npx tsx scripts/report.ts`);
  }
  // Every table a page names exists, and every table and derived figure is used by some page.
  const text = projectPages()
    .map((page) => readFileSync(join(ROOT, page), 'utf8'))
    .join('\n');
  for (const name of Object.keys(TABLES)) assert.match(text, new RegExp(`<!--table ${name}-->`), `table ${name} is shown`);
  for (const name of Object.keys(DERIVED)) assert.match(text, new RegExp(` =${name} `), `figure ${name} is quoted`);
});

/** A page's prose: no markers (nor what they hold), no code, no link targets, no HTML comments. */
function prose(text: string): string {
  return withoutMarkers(text)
    .replace(/```[\s\S]*?```/g, '')
    .replace(/`[^`\n]*`/g, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/\]\([^)]*\)/g, ']');
}

// What a measured figure looks like: decimals with a unit (3.047 s, 16.7 ms, 1.3 %, 1.96×), or ms to the unit from
// four digits on (2457 ms). A setting or a model's figure is whole and short (3 s, 200 ms, 40 threads, 9 s), or in
// backticks.
const MEASURED = /(?<![\w.])\d[\d ]*\.\d+ ?(?:ms|s|µs|MB|GiB|%|×|times)(?![\w])|(?<![\w.])\d{4,} ?ms\b/g;

test('no measured figure in the prose of a page stands outside a marker', () => {
  const loose = projectPages().flatMap((page) =>
    [...prose(readFileSync(join(ROOT, page), 'utf8')).matchAll(MEASURED)].map((m) => `${page}: "${m[0]}"`),
  );
  assert.deepEqual(loose, [], 'tie each to its JSON field with <!--fig FILE FIELD ROUNDING-->…<!--/fig-->');
  // The check itself finds one.
  assert.deepEqual(
    [...prose('took 3.047 s, and `3.5 s` in code, and 9 s').matchAll(MEASURED)].map((m) => m[0]),
    ['3.047 s'],
  );
});

test("no file of the project cites one outside it: not the team's notes, nor a path of the machine it was written on", () => {
  const outside = [`${'shared'}/`, `${'DESIGN'}.md`, `/${'work'}/`];
  const skip = new Set(['node_modules', '.git']);
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      if (skip.has(name)) return [];
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : [path];
    });
  const cites = files(ROOT).flatMap((path) => {
    const text = readFileSync(path, 'utf8');
    return outside.filter((s) => text.includes(s)).map((s) => `${relative(ROOT, path)} cites ${s}`);
  });
  assert.deepEqual(cites, []);
});

test("no script header's Expect: states a measured figure, and every Takes: that gives a time gives the committed run's", () => {
  const loose: string[] = [];
  for (const script of readdirSync(join(ROOT, 'scripts')).filter((name) => name.endsWith('.ts'))) {
    const header = /^\/\*\*[\s\S]*?\*\//.exec(readFileSync(join(ROOT, 'scripts', script), 'utf8'))?.[0] ?? '';
    // The Expect: paragraph: its line and the indented lines under it.
    const expect = /^ \* Expect:.*(?:\n \* {8}.*)*/m.exec(header)?.[0] ?? '';
    for (const m of expect.replace(/`[^`]*`/g, '').matchAll(MEASURED)) loose.push(`${script}: Expect: "${m[0]}"`);
    const takes = /^ \* Takes:.*/m.exec(header)?.[0] ?? '';
    if (/\d+(?:\.\d+)? ?(?:s|min)\b/.test(takes) && !/in the committed run/.test(takes) && !/--budget-s/.test(takes)) {
      loose.push(`${script}: Takes: a time not from the committed run: ${takes}`);
    }
  }
  assert.deepEqual(loose, []);
});
