// The command line engines use, as runc reads it: global options first (--root, --log,
// --log-format), then a verb, its options, the container's ID and what follows. An error
// is one line: in the --log file as JSON when the engine asked for it (containerd's shim
// and conmon read the last "error" line from there), else on stderr; the status is 1, as
// runc's, and 2 for a command line it cannot read.
import { appendFileSync } from 'node:fs';
import { AlreadyReported, RuntimeError, SyscallError, UsageError } from '../runtime/errors.ts';
import { printable } from '../runtime/quote.ts';
import { DEFAULT_ROOT } from './state.ts';

/** An option: `value` when it takes one (`--pid-file P`), else a switch (`--detach`). */
interface Option {
  value?: boolean;
  short?: string;
  repeats?: boolean;
}

interface Globals {
  root: string;
  log?: string;
  logFormat: string;
  systemdCgroup: boolean;
}

export type Values = Record<string, string | boolean | string[] | undefined>;

export interface Verb {
  options?: Record<string, Option>;
  operands: string; // for the usage line: "<container-id>", "<container-id> [signal]"
  run(operands: string[], values: Values, globals: Globals): unknown; // a status (number), or nothing: 0
}

const GLOBALS: Record<string, Option> = {
  root: { value: true },
  log: { value: true },
  'log-format': { value: true },
  'systemd-cgroup': {},
  'cgroup-manager': { value: true }, // crun's: cgroupfs or systemd
  debug: {},
  rootless: { value: true },
};

// The options of the verbs that make a container (create, run) and of exec, as runc's.
export const BUNDLE_OPTIONS: Record<string, Option> = {
  bundle: { value: true, short: 'b' },
  config: { value: true }, // crun's: a config.json elsewhere than the bundle
  'pid-file': { value: true },
  'console-socket': { value: true },
  'preserve-fds': { value: true },
  'no-pivot': {},
  'no-new-keyring': {},
};
export const EXEC_OPTIONS: Record<string, Option> = {
  process: { value: true, short: 'p' },
  'console-socket': { value: true },
  tty: { short: 't' },
  detach: { short: 'd' },
  'pid-file': { value: true },
  cwd: { value: true },
  env: { value: true, short: 'e', repeats: true },
  user: { value: true, short: 'u' },
  'additional-gids': { value: true, short: 'g', repeats: true },
  cap: { value: true, short: 'c', repeats: true },
  'no-new-privs': {},
  'preserve-fds': { value: true },
  'process-label': { value: true },
  apparmor: { value: true },
};

let globals: Globals = { root: DEFAULT_ROOT, logFormat: 'text', systemdCgroup: false };

/** Read the command line, run the verb it names, end with its status. */
export function ociMain(verbs: Record<string, Verb>, version: string): void {
  const argv = process.argv.slice(2);
  if (argv[0] === '--') argv.shift(); // the wrapper's, so that Node reads none of ours
  process.on('uncaughtException', report);
  try {
    const { values: g, rest } = parseOptions(argv, GLOBALS, true);
    globals = {
      root: (g.root as string) || DEFAULT_ROOT,
      log: g.log as string | undefined,
      logFormat: (g['log-format'] as string) || 'text',
      systemdCgroup: g['systemd-cgroup'] === true || g['cgroup-manager'] === 'systemd',
    };
    if (globals.systemdCgroup) throw new RuntimeError('systemd cgroups are not implemented by this runtime: use cgroupfs');
    const [name = '', ...words] = rest;
    if (name === '--version' || name === '-v' || name === 'version') {
      console.log(version);
      return;
    }
    const verb = verbs[name];
    if (!verb) throw new UsageError(`${name ? `unknown command ${name}` : 'no command'}: one of ${Object.keys(verbs).join(', ')}`);
    if (words.includes('--help') || words.includes('-h')) {
      console.log(`usage: runtime [--root dir] [--log file] [--log-format text|json] ${name} [options] ${verb.operands}`);
      return;
    }
    const { values, rest: operands } = parseOptions(words, verb.options ?? {}, false);
    Promise.resolve(verb.run(operands, values, globals)).then((status) => {
      process.exitCode = typeof status === 'number' ? status : 0;
    }, report);
  } catch (error) {
    report(error);
  }
}

/** Go's flag syntax, as runc takes it: -x or --x, a value after `=` or as the next word; stops at the first operand. */
function parseOptions(words: string[], options: Record<string, Option>, stopAtVerb: boolean) {
  const values: Values = {};
  let i = 0;
  for (; i < words.length; i++) {
    const word = words[i]!;
    if (word === '--') {
      i++;
      break;
    }
    if (!word.startsWith('-') || word === '-') break;
    const [key, inline] = word.replace(/^--?/, '').split(/=(.*)/s) as [string, string | undefined];
    const name = options[key] ? key : Object.keys(options).find((n) => options[n]!.short === key);
    if (!name) {
      if (stopAtVerb) break; // not a global option: maybe --version
      throw new UsageError(`unknown option ${word}`);
    }
    const option = options[name]!;
    let value: string | boolean;
    if (option.value) {
      value = inline ?? words[++i] ?? '';
      if (inline === undefined && i >= words.length) throw new UsageError(`option ${word} needs a value`);
    } else {
      value = inline === undefined ? true : inline !== 'false';
    }
    if (option.repeats) values[name] = [...((values[name] as string[] | undefined) ?? []), value as string];
    else values[name] = value;
  }
  return { values, rest: words.slice(i) };
}

/** The operands a verb needs: exactly `count` (or at least, with `more`). */
export function operands(given: string[], count: number, more = false): string[] {
  if (given.length < count || (!more && given.length > count)) {
    throw new UsageError(`expects ${more ? 'at least ' : ''}${count} argument${count === 1 ? '' : 's'}, got ${given.length}`);
  }
  return given;
}

/** One line, where the engine reads it; then the status: 2 for usage, else 1. */
function report(error: unknown): void {
  if (!(error instanceof AlreadyReported)) {
    const known = error instanceof RuntimeError || error instanceof SyscallError || error instanceof UsageError;
    // A Node fs error (a --pid-file we may not write, say) is one line already; anything else, a bug of ours.
    const said = (error as NodeJS.ErrnoException)?.code ? (error as Error).message : undefined;
    const message = printable(known ? (error as Error).message : (said ?? `internal error: ${(error as Error)?.message ?? error}`));
    logLine('error', message);
  }
  process.exit(error instanceof UsageError ? 2 : 1);
}

/** A line of the log: JSON ({level, msg, time}) or text, in the --log file if any, else on stderr. */
function logLine(level: string, msg: string): void {
  const time = new Date().toISOString();
  const line = globals.logFormat === 'json' ? JSON.stringify({ level, msg, time }) : `time="${time}" level=${level} msg="${msg}"`;
  if (globals.log) {
    try {
      appendFileSync(globals.log, `${line}\n`);
      return;
    } catch {}
  }
  process.stderr.write(`${globals.log ? line : msg}\n`);
}
