/**
 * The command line every script shares: its flags (with --quick defaults), --help, and errors the user can
 * cause ending in one clear sentence and a non-zero exit instead of a stack trace.
 */
import { parseArgs } from 'node:util';
import { basename } from 'node:path';
import { BURST_CLIENTS, type BurstClient } from './burst.ts';

/** An error the user can fix (a bad flag, a busy port, an unreachable URL): printed as one sentence. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface NumberFlag {
  help: string;
  default: number;
  /** The default under --quick, if it differs. */
  quick?: number;
  min?: number;
  max?: number;
}

export interface CommonFlags {
  /** Where results go (default: results/ of the project). */
  out: string;
  quick: boolean;
  quiet: boolean;
  /** Measured bursts per measurement (after one warm-up); the JSON keeps every total and their median. */
  repeat: number;
  /** Who fires the bursts: the precise raw-socket client, or the blog's background curl processes. */
  client: BurstClient;
}

export interface ScriptSpec<K extends string> {
  /** The text --help prints above the options: what the script shows, how long it takes. */
  about: string;
  numbers: Record<K, NumberFlag>;
  /** Default for --out. */
  defaultOut: string;
  /** Default for --repeat: 1 for the long experiments, more where a burst takes a moment. */
  defaultRepeat?: number;
}

/**
 * Parses process.argv for a script (and from then on reports UserErrors as one sentence). Number flags are named in camelCase in the spec and on the command line
 * in kebab-case (delayMs → --delay-ms). Prints help and exits 0 on --help; throws UserError on a bad flag.
 */
export function parseScriptFlags<K extends string>(
  spec: ScriptSpec<K>,
  argv = process.argv.slice(2),
): Record<K, number> & CommonFlags {
  reportUserErrors();
  const script = basename(process.argv[1] ?? 'script');
  const numberNames = Object.keys(spec.numbers) as K[];
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    out: { type: 'string' },
    quick: { type: 'boolean' },
    quiet: { type: 'boolean' },
    repeat: { type: 'string' },
    client: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  };
  for (const name of numberNames) options[kebab(name)] = { type: 'string' };

  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UserError(`${script}: ${(error as Error).message.replace(/\. To specify.*$/s, '')}. See --help.`, 2);
  }
  if (values.help) {
    console.log(helpText(script, spec));
    process.exit(0);
  }

  const quick = values.quick === true;
  const repeatFlag: NumberFlag = { help: '', default: spec.defaultRepeat ?? 1, max: 1000 };
  const repeat = values.repeat === undefined ? repeatFlag.default : toNumber(script, 'repeat', values.repeat as string, repeatFlag);
  const client = (values.client as string | undefined) ?? 'raw';
  if (!(BURST_CLIENTS as readonly string[]).includes(client)) {
    throw new UserError(`${script}: --client must be one of ${BURST_CLIENTS.join(', ')}, got "${client}".`, 2);
  }
  const parsed = {
    out: (values.out as string | undefined) ?? spec.defaultOut,
    quick,
    quiet: values.quiet === true,
    repeat,
    client: client as BurstClient,
  };
  const numbers = {} as Record<K, number>;
  for (const name of numberNames) {
    const flag = spec.numbers[name];
    const raw = values[kebab(name)] as string | undefined;
    numbers[name] = raw === undefined ? (quick ? (flag.quick ?? flag.default) : flag.default) : toNumber(script, name, raw, flag);
  }
  if (parsed.out.trim() === '') throw new UserError(`${script}: --out needs a folder.`, 2);
  return { ...numbers, ...parsed };
}

function toNumber(script: string, name: string, raw: string, flag: NumberFlag): number {
  const min = flag.min ?? 1;
  const max = flag.max ?? 1_000_000;
  const value = /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UserError(`${script}: --${kebab(name)} must be a whole number from ${min} to ${max}, got "${raw}".`, 2);
  }
  return value;
}

export function helpText<K extends string>(script: string, spec: ScriptSpec<K>): string {
  const rows: [string, string][] = Object.entries<NumberFlag>(spec.numbers).map(([name, flag]) => [
    `--${kebab(name)} N`,
    `${flag.help} (default ${flag.default}${flag.quick !== undefined ? `, --quick ${flag.quick}` : ''})`,
  ]);
  rows.push(
    ['--repeat K', `measured bursts per measurement; the JSON and tables give median, min, max (default ${spec.defaultRepeat ?? 1})`],
    ['--client NAME', "raw (default): raw sockets, sub-ms; curl: the blog's method, one background curl per request"],
    ['--quick', 'short delays and counts: finishes in seconds'],
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

/**
 * Turns a UserError that escapes a script into one sentence on stderr and its exit code. Anything else is a
 * bug and keeps its stack trace. `finally` blocks have run by then, so servers are already stopped.
 */
let reporting = false;
export function reportUserErrors(): void {
  if (reporting) return;
  reporting = true;
  process.on('uncaughtException', (error) => {
    if (error instanceof UserError) {
      console.error(error.message);
      process.exit(error.exitCode);
    }
    console.error(error);
    process.exit(1);
  });
}
