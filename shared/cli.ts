// The command line every step shares: `main.ts run <cmd> [args...]`, plus the
// internal `child` verb of the steps that re-execute themselves.
import { basename, dirname, relative } from 'node:path';
import { die, EXIT_RUNTIME, EXIT_USAGE, RuntimeError, SyscallError } from './errors.ts';
import { passTerminalOn, takeTerminal } from './terminal.ts';

/**
 * An option of `run`, written before the command as in docker run: `--memory 64m`
 * or `--memory=64m`. A switch such as `--keep` has no example value (parse gets "").
 */
export interface Flag<T> {
  example?: string; // how a value looks, for the usage line
  default: T;
  parse(text: string): T | undefined; // undefined: not a valid value
}
type Flags = Record<string, Flag<unknown>>;
type FlagValues<F extends Flags> = { [Name in keyof F]: F[Name]['default'] };
type Verb<F extends Flags> = (command: string[], flags: FlagValues<F>) => void;

const script = process.argv[1] ?? '';
const stepFolder = basename(dirname(script)); // "03-hostname"
const stepNumber = Number.parseInt(stepFolder, 10); // 3

/**
 * Run the verb named on the command line; report any failure in one line.
 * `flags`: the options `run` takes before the command (none before step 09).
 */
export function main<F extends Flags>(verbs: Record<string, Verb<F>>, flags = {} as F): void {
  const [verb = '', ...words] = process.argv.slice(2);
  if (verb === '--help' || verb === '-h') {
    console.log(usage(flags));
    process.exit(0);
  }
  const { values, command } = verb === 'run' ? parseFlags(words, flags) : { values: defaults(flags), command: words };
  if (!Object.hasOwn(verbs, verb) || command.length === 0) die(usage(flags), EXIT_USAGE);
  // Failures inside event handlers (after the child started) are reported the same way.
  process.on('uncaughtException', (error) => die(explain(error, command), EXIT_RUNTIME));
  // Who holds the terminal: the container's first process, once it starts (terminal.ts).
  if (verb === 'run' && Object.hasOwn(verbs, 'child')) passTerminalOn();
  try {
    if (verb === 'child') takeTerminal();
    verbs[verb]!(command, values);
  } catch (error) {
    die(explain(error, command), EXIT_RUNTIME);
  }
}

/** The article's greeting: "Running [echo hello] as PID 4242", on stderr. */
export function announce(command: string[]): void {
  process.stderr.write(`Running [${command.join(' ')}] as PID ${process.pid}\n`);
}

function usage(flags: Flags): string {
  const file = relative(process.cwd(), script) || script;
  const options = Object.entries(flags).map(([name, flag]) => `[--${name}${flag.example ? ` ${flag.example}` : ''}] `);
  const or = options.length ? '[options] ' : '';
  return `usage: npm run step:${stepNumber} -- ${options.join('')}<cmd> [args...]   (or: node ${file} run ${or}<cmd> [args...])`;
}

function defaults<F extends Flags>(flags: F): FlagValues<F> {
  return Object.fromEntries(Object.entries(flags).map(([name, flag]) => [name, flag.default])) as FlagValues<F>;
}

/** `--memory 64m --pids=32 -- sh -c x`: options up to the first other word (or `--`). */
function parseFlags<F extends Flags>(words: string[], flags: F): { values: FlagValues<F>; command: string[] } {
  const values: Record<string, unknown> = defaults(flags);
  let index = 0;
  while (Object.keys(flags).length > 0 && words[index]?.startsWith('--')) {
    const word = words[index++]!;
    if (word === '--') break;
    const equals = word.indexOf('=');
    const name = word.slice(2, equals === -1 ? undefined : equals);
    if (!Object.hasOwn(flags, name)) die(`unknown option ${word}; ${usage(flags)}`, EXIT_USAGE);
    const flag = flags[name]!;
    // `--memory=64m`, `--memory 64m`, or a switch: `--keep`.
    const text = equals !== -1 ? word.slice(equals + 1) : flag.example === undefined ? '' : words[index++];
    const value = text === undefined ? undefined : flag.parse(text);
    if (value === undefined) {
      const given = equals === -1 && text ? `${word} ${text}` : word;
      die(`bad option ${given}${flag.example ? ` (like --${name} ${flag.example})` : ''}; ${usage(flags)}`, EXIT_USAGE);
    }
    values[name] = value;
  }
  return { values: values as FlagValues<F>, command: words.slice(index) };
}

function explain(error: unknown, command: string[]): string {
  // EACCES: a file only root may write, such as a cgroup's (step 09).
  if (error instanceof SyscallError && ['EPERM', 'EACCES'].includes(error.code) && process.getuid?.() !== 0) {
    return `${error.message} - run as root: sudo npm run step:${stepNumber} -- ${command.map(quote).join(' ')}`;
  }
  if (error instanceof SyscallError || error instanceof RuntimeError) return error.message;
  return `${stepFolder}: internal error: ${error instanceof Error ? error.message : String(error)}`;
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}
