/**
 * The command line every script shares: its flags (with --quick defaults), --help, and errors the user can
 * cause ending in one clear sentence and a non-zero exit instead of a stack trace.
 *
 * About 270 lines in one file: the flags table, the parser that reads it and the --help generated from it must
 * agree line for line, and a reader checks that agreement best on one screen after another, not across files.
 */
import { parseArgs } from 'node:util';
import { basename, dirname } from 'node:path';
import { accessSync, statSync, constants } from 'node:fs';
import { resultsDir } from './results/file.ts';
import { BURST_CLIENTS, type BurstClient } from './client/burst-types.ts';
import { HelpRequested, UserError } from './core/outcomes.ts';
import { parseWholeNumber } from '../../server/numbers.ts';
import { RUNTIMES, type Runtime } from '../../server/runtime.ts';

export interface NumberFlag {
  help: string;
  default: number;
  /** The default under --quick, if it differs. */
  quick?: number;
  min?: number;
  max?: number;
}

export interface ListFlag {
  help: string;
  default: number[];
  quick?: number[];
  min?: number;
  max?: number;
}

/** A flag that takes text: --url URL, --python CMD. Absent from the result when not given. */
export interface TextFlag {
  help: string;
  /** What --help shows after the flag, e.g. URL. */
  value: string;
}

/** --url, for the scripts that fire at one server started with their own flags: see useRunningServer in server-process.ts. */
export const URL_FLAG: TextFlag = {
  help: 'fire at a server already running there (e.g. one started by hand) instead of starting one; give the flags that match it',
  value: 'URL',
};

/**
 * The database experiments' D: how long each query sleeps. --quick keeps it well above the time PostgreSQL takes to
 * refuse the connections beyond its limit, even on a slow machine (7 refusals of up to 60 ms at half this machine's
 * CPU): the model needs them inside a wave.
 */
export const QUERY_DELAY_FLAG: NumberFlag = {
  help: 'how long each query sleeps (pg_sleep), ms',
  default: 3000,
  quick: 1000,
  min: 1,
  max: 600_000,
};

/** The throwaway PostgreSQL's max_connections: its default, 100 (a role without SUPERUSER gets 3 fewer); --quick 20. */
export const MAX_CONNECTIONS_FLAG: NumberFlag = {
  help: "the throwaway cluster's max_connections (PostgreSQL's default: 100; the server's role gets 3 fewer)",
  default: 100,
  quick: 20,
  min: 5,
  max: 10_000,
};

export type CommonFlags = {
  /** Where results go (default: results/ of the project). */
  out: string;
  quick: boolean;
  quiet: boolean;
  /** Measured bursts per measurement (after one warm-up); the JSON keeps every total and their median. */
  repeat: number;
  /** Who fires the bursts: the precise raw-socket client, or the blog's background curl processes. */
  client: BurstClient;
  /** The runtime every server.ts the script starts runs on; the client stays on Node. */
  runtime: Runtime;
};

/** A flag that is there or not: --insecure. */
export interface SwitchFlag {
  help: string;
}

export interface ScriptSpec<
  K extends string,
  L extends string = never,
  T extends string = never,
  R extends string = never,
  S extends string = never,
> {
  /** The text --help prints above the options: what the script shows, how long it takes. */
  about: string;
  numbers: Record<K, NumberFlag>;
  /** Comma-separated whole numbers, e.g. --pools 10,20,40. */
  lists?: Record<L, ListFlag>;
  texts?: Record<T, TextFlag>;
  /** Text flags that may be given again and again: --header 'A: 1' --header 'B: 2'. An empty list when not given. */
  repeated?: Record<R, TextFlag>;
  /** Flags that are there or not, false when not given: --insecure. */
  switches?: Record<S, SwitchFlag>;
  /** Default for --out. */
  defaultOut: string;
  /** Default for --repeat: 1 for the long experiments, more where a burst takes a moment. */
  defaultRepeat?: number;
  /** Common flags that make no sense for this script, with why: given anyway, they are refused in one sentence. */
  notApplicable?: Partial<Record<'repeat' | 'client' | 'quick' | 'runtime', string>>;
}

/**
 * Parses process.argv for a script. Number flags are named in camelCase in the spec and on the command line in
 * kebab-case (delayMs → --delay-ms). Throws HelpRequested (with the text) on --help and UserError on a bad flag: the
 * script's entry (./main.ts) prints either and exits.
 */
export function parseScriptFlags<
  K extends string,
  L extends string = never,
  T extends string = never,
  R extends string = never,
  S extends string = never,
>(spec: ScriptSpec<K, L, T, R, S>, argv = process.argv.slice(2)): ScriptFlags<K, L, T, R, S> {
  const script = basename(process.argv[1] ?? 'script');
  const numberNames = Object.keys(spec.numbers) as K[];
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    out: { type: 'string' },
    quick: { type: 'boolean' },
    quiet: { type: 'boolean' },
    repeat: { type: 'string' },
    client: { type: 'string' },
    runtime: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  };
  const listNames = Object.keys(spec.lists ?? {}) as L[];
  const textNames = Object.keys(spec.texts ?? {}) as T[];
  const repeatedNames = Object.keys(spec.repeated ?? {}) as R[];
  const switchNames = Object.keys(spec.switches ?? {}) as S[];
  for (const name of [...numberNames, ...listNames, ...textNames]) options[kebab(name)] = { type: 'string' };
  for (const name of repeatedNames) options[kebab(name)] = { type: 'string', multiple: true };
  for (const name of switchNames) options[kebab(name)] = { type: 'boolean' };

  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UserError(`${script}: ${(error as Error).message.replace(/\. To specify.*$/s, '')}. See --help.`, 2);
  }
  if (values.help) {
    throw new HelpRequested(helpText(script, spec));
  }

  for (const [flag, why] of Object.entries(spec.notApplicable ?? {})) {
    if (values[flag] !== undefined) throw new UserError(`${script}: ${why}; --${flag} does not apply.`, 2);
  }
  const quick = values.quick === true;
  // A --quick run is a smoke test: one burst each unless --repeat says otherwise.
  const repeatFlag: NumberFlag = { help: '', default: quick ? 1 : (spec.defaultRepeat ?? 1), max: 1000 };
  const repeat =
    values.repeat === undefined ? repeatFlag.default : toNumber(script, 'repeat', values.repeat as string, repeatFlag);
  const client = (values.client as string | undefined) ?? 'raw';
  if (!(BURST_CLIENTS as readonly string[]).includes(client)) {
    throw new UserError(`${script}: --client must be one of ${BURST_CLIENTS.join(', ')}, got "${client}".`, 2);
  }
  const runtime = (values.runtime as string | undefined) ?? 'node';
  if (!(RUNTIMES as readonly string[]).includes(runtime)) {
    throw new UserError(`${script}: --runtime must be one of ${RUNTIMES.join(', ')}, got "${runtime}".`, 2);
  }
  const parsed = {
    out: (values.out as string | undefined) ?? spec.defaultOut,
    quick,
    quiet: values.quiet === true,
    repeat,
    client: client as BurstClient,
    runtime: runtime as Runtime,
  };
  const numbers = {} as Record<K, number>;
  for (const name of numberNames) {
    const flag = spec.numbers[name];
    const raw = values[kebab(name)] as string | undefined;
    numbers[name] = raw === undefined ? (quick ? (flag.quick ?? flag.default) : flag.default) : toNumber(script, name, raw, flag);
  }
  const lists = {} as Record<L, number[]>;
  for (const name of listNames) {
    const flag = spec.lists![name];
    const raw = values[kebab(name)] as string | undefined;
    lists[name] =
      raw === undefined
        ? quick
          ? (flag.quick ?? flag.default)
          : flag.default
        : raw.split(',').map((item) => toNumber(script, name, item, flag));
  }
  const texts: Partial<Record<T, string>> = {};
  for (const name of textNames) {
    const raw = values[kebab(name)] as string | undefined;
    if (raw === undefined) continue;
    if (raw.trim() === '') throw new UserError(`${script}: --${kebab(name)} needs a ${spec.texts![name].value}.`, 2);
    texts[name] = raw;
  }
  const repeated = {} as Record<R, string[]>;
  for (const name of repeatedNames) {
    const raw = (values[kebab(name)] as string[] | undefined) ?? [];
    if (raw.some((item) => item.trim() === ''))
      throw new UserError(`${script}: --${kebab(name)} needs a ${spec.repeated![name].value}.`, 2);
    repeated[name] = raw;
  }
  const switches = {} as Record<S, boolean>;
  for (const name of switchNames) switches[name] = values[kebab(name)] === true;
  if (parsed.out.trim() === '') throw new UserError(`${script}: --out needs a folder.`, 2);
  // Now, not after a run of minutes whose results would then be lost.
  const unwritable = whyNotWritable(resultsDir(parsed.out));
  if (unwritable) throw new UserError(`${script}: --out ${parsed.out}: ${unwritable}; pick another folder.`, 2);
  return { ...numbers, ...lists, ...texts, ...repeated, ...switches, ...parsed };
}

/** What a script's flags parse to: numbers, lists of numbers, texts (absent unless given), repeated texts, switches. */
export type ScriptFlags<K extends string, L extends string, T extends string, R extends string, S extends string> = Record<
  K,
  number
> &
  Record<L, number[]> &
  Partial<Record<T, string>> &
  Record<R, string[]> &
  Record<S, boolean> &
  CommonFlags;

function toNumber(script: string, name: string, raw: string, flag: { min?: number; max?: number }): number {
  const min = flag.min ?? 1;
  const max = flag.max ?? 1_000_000;
  const value = parseWholeNumber(raw, min, max);
  if (value === null)
    throw new UserError(`${script}: --${kebab(name)} must be a whole number from ${min} to ${max}, got "${raw}".`, 2);
  return value;
}

/** Why results could not be written into `dir` (it, or the nearest parent that exists, must be a writable folder). */
function whyNotWritable(dir: string): string | null {
  for (let path = dir; ; path = dirname(path)) {
    try {
      if (!statSync(path).isDirectory()) return `${path} is not a folder`;
      accessSync(path, constants.W_OK);
      return null;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && dirname(path) !== path) continue; // will be created: look at its parent
      return `${path} is not writable (${code})`;
    }
  }
}

export function helpText<K extends string, L extends string, T extends string, R extends string, S extends string>(
  script: string,
  spec: ScriptSpec<K, L, T, R, S>,
): string {
  const rows: [string, string][] = [
    ...Object.entries<NumberFlag>(spec.numbers).map(([name, flag]): [string, string] => [
      `--${kebab(name)} N`,
      `${flag.help} (default ${flag.default}${flag.quick !== undefined ? `, --quick ${flag.quick}` : ''})`,
    ]),
    ...Object.entries<ListFlag>(spec.lists ?? ({} as Record<L, ListFlag>)).map(([name, flag]): [string, string] => [
      `--${kebab(name)} A,B,…`,
      `${flag.help} (default ${flag.default.join(',')}${flag.quick !== undefined ? `, --quick ${flag.quick.join(',')}` : ''})`,
    ]),
  ];
  for (const [name, flag] of Object.entries<TextFlag>(spec.texts ?? ({} as Record<T, TextFlag>))) {
    rows.push([`--${kebab(name)} ${flag.value}`, flag.help]);
  }
  for (const [name, flag] of Object.entries<TextFlag>(spec.repeated ?? ({} as Record<R, TextFlag>))) {
    rows.push([`--${kebab(name)} ${flag.value}`, `${flag.help} (may be given again)`]);
  }
  for (const [name, flag] of Object.entries<SwitchFlag>(spec.switches ?? ({} as Record<S, SwitchFlag>))) {
    rows.push([`--${kebab(name)}`, flag.help]);
  }
  if (!spec.notApplicable?.repeat) {
    rows.push([
      '--repeat K',
      `measured bursts per measurement; the JSON and tables give median, min, max (default ${spec.defaultRepeat ?? 1}, --quick 1)`,
    ]);
  }
  if (!spec.notApplicable?.client) {
    rows.push(['--client NAME', "raw (default): raw sockets, sub-ms; curl: the blog's method, one background curl per request"]);
  }
  if (!spec.notApplicable?.runtime) {
    rows.push(['--runtime NAME', 'node (default), bun or deno: what runs server.ts; the client stays on Node']);
  }
  if (!spec.notApplicable?.quick) rows.push(['--quick', 'short delays and counts: finishes in seconds']);
  rows.push(
    ['--out DIR', `where the JSON results go (default ${spec.defaultOut})`],
    ['--quiet', 'no progress output'],
    ['-h, --help', 'this text'],
  );
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return [
    `Usage: npx tsx scripts/${script} [options]`,
    '',
    spec.about.trim(),
    '',
    ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}${text}`),
  ].join('\n');
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
