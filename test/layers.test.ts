/**
 * The tree of scripts/lib/ is its architecture: each folder imports only the folders its row in
 * scripts/lib/README.md allows (so imports between folders go one way), and only the entry module (main.ts) ends the
 * process or installs a process-wide handler. Read from the files themselves, in this process.
 */
import { test } from './harness.ts';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { ROOT } from './run-script.ts';

const LIB = join(ROOT, 'scripts', 'lib');
const ENTRY = 'main.ts';

/** Every .ts and .js file below `dir`, as paths relative to scripts/lib. */
function sources(dir = LIB): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|js)$/.test(name) ? [relative(LIB, path)] : [];
  });
}

/** The relative imports of a file (type-only ones included), resolved to paths relative to scripts/lib. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(LIB, file), 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) =>
    normalize(join(dirname(file), m[1]!)),
  );
}

const folderOf = (file: string) => (file.includes('/') ? file.split('/')[0]! : '(top)');

/** The README's table: folder → the folders it may import, in the order of the rows. */
function declaredLayers(): Map<string, Set<string>> {
  const readme = readFileSync(join(LIB, 'README.md'), 'utf8');
  const table = readme.split('<!-- layers')[1]!.split('<!-- /layers -->')[0]!;
  const layers = new Map<string, Set<string>>();
  for (const row of table.split('\n').filter((line) => /^\| `[\w-]+\/`/.test(line))) {
    const [folder, , allowed] = row
      .split('|')
      .slice(1, 4)
      .map((cell) => cell.trim());
    const name = folder!.replace(/[`/]/g, '');
    const may = allowed === 'every folder above' ? [...layers.keys()] : [...allowed!.matchAll(/`([\w-]+)\/`/g)].map((m) => m[1]!);
    layers.set(name, new Set(may));
  }
  return layers;
}

test('every folder of scripts/lib is in the README table, and imports only what its row allows', () => {
  const layers = declaredLayers();
  const folders = readdirSync(LIB).filter((name) => statSync(join(LIB, name)).isDirectory());
  assert.deepEqual(folders.sort(), [...layers.keys()].sort(), 'the table lists exactly the folders there are');
  const order = [...layers.keys()];
  for (const [folder, may] of layers) {
    for (const allowed of may)
      assert.ok(order.indexOf(allowed) < order.indexOf(folder), `${folder} may import ${allowed}, below it`);
  }
  const wrong: string[] = [];
  for (const file of sources()) {
    const from = folderOf(file);
    if (from === '(top)') continue; // the top files may import any folder
    for (const target of importsOf(file)) {
      if (target.startsWith('..')) continue; // the server's modules (server/), not scripts/lib's
      const to = folderOf(target);
      if (to !== from && !layers.get(from)!.has(to)) wrong.push(`${file} imports ${target}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('only the entry module ends the process or installs a process-wide handler', () => {
  const control = /process\.(exit|exitCode|on|once|addListener|prependListener)\b/;
  const found = sources()
    .filter((file) => file !== ENTRY)
    .filter((file) => control.test(readFileSync(join(LIB, file), 'utf8').replace(/^\s*(\*|\/\/).*$/gm, '')));
  assert.deepEqual(found, []);
  assert.match(readFileSync(join(LIB, ENTRY), 'utf8'), /process\.on\('uncaughtException'/, 'the entry does install them');
});

test('every script starts server.ts through its experiment, so that --runtime reaches every server it starts', () => {
  const scripts = join(ROOT, 'scripts');
  const direct = readdirSync(scripts)
    .filter((name) => name.endsWith('.ts'))
    .filter((name) =>
      /import\s*\{[^}]*\bstartServer\b[^}]*\}\s*from\s*'[^']*start-server\.ts'/.test(readFileSync(join(scripts, name), 'utf8')),
    );
  assert.deepEqual(direct, [], 'experiment.server() or experiment.startServer(), not startServer()');
});
