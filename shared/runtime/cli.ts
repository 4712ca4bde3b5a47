// The command line every step shares, read once, here: `main.ts run [options] <cmd>
// [args...]`, plus the internal `child` verb of the steps that re-execute themselves
// (`main.ts child [--root=<dir>] -- <cmd> [args...]`). Any failure ends the process
// with one line and its status (shared/runtime/errors.ts), never a stack trace.
import { readFileSync, readlinkSync } from 'node:fs';
import { basename, dirname, relative } from 'node:path';
import type { ProcessSpec } from '../image/config.ts';
import { closeOnExecFrom } from '../kernel/libc.ts';
import { prepareChildEnv, startedByRun } from './child-env.ts';
import { cacheForChildren } from './compile-cache.ts';
import { AlreadyReported, EXIT_NOT_FOUND, EXIT_RUNTIME, EXIT_USAGE, RuntimeError, SyscallError, UsageError } from './errors.ts';
import { exit, fail } from './exit.ts';
import { dieWithRuntime } from './init.ts';
import { printable, shellQuote } from './quote.ts';
import { passTerminalOn, takeTerminal } from './terminal.ts';

/**
 * An option, written before the command as in docker run: `--memory 64m` or
 * `--memory=64m`. A switch such as `--keep` has no example value (parse gets "", or
 * what follows `=`: `--keep=false`).
 */
export interface Flag<T> {
  example?: string; // how a value looks, for the usage line
  hint?: string; // what a valid value is, when an example does not say it all
  short?: string; // a one-letter name too: `-p 8080:80` as `--publish 8080:80`
  repeats?: boolean; // may be given again: the values (arrays) add up (`-p 80 -p 53/udp`)
  refused?: boolean; // docker's, named only to be refused (its hint says why): not in the usage line
  default: T;
  parse(text: string): T | undefined; // undefined: not a valid value
}
type Flags = Record<string, Flag<unknown>>;
type FlagValues<F extends Flags> = { [Name in keyof F]: F[Name]['default'] };

/** What the runtime passes its re-executed child, besides the command. */
export interface ChildOptions {
  root: string; // the container's root filesystem (steps 05+); "" before
  process: ProcessSpec | undefined; // the command's environment, directory and user (steps 10+)
}
const CHILD_FLAGS = {
  root: { example: '/containerfs', default: '', parse: (text) => (text.startsWith('/') ? text : undefined) },
  process: { example: '{"cwd":"/"}', default: undefined, parse: parseJson<ProcessSpec> },
} satisfies { [Name in keyof ChildOptions]: Flag<ChildOptions[Name]> };

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

interface Verbs<F extends Flags> {
  run(command: string[], options: FlagValues<F>): void | Promise<void>;
  child?(command: string[], options: ChildOptions): void;
}

// `main.ts -- run ...` (the npm scripts' way) as `main.ts run ...`: before a `--`, Node
// reads --env-file even after the script's name (nodejs/node#54232), and would load the
// container's NODE_OPTIONS into the runtime itself.
const [script = '', ...given] = process.argv.slice(1);
const [verb = '', ...words] = given[0] === '--' ? given.slice(1) : given;
const stepFolder = basename(dirname(script)); // "03-hostname"
const stepNumber = Number.parseInt(stepFolder, 10); // 3

/**
 * Run the verb named on the command line. `flags`: the options `run` takes before the
 * command (none before step 09).
 */
export function main<F extends Flags>(verbs: Verbs<F>, flags = {} as F): void {
  if (verb === '--help' || verb === '-h') {
    console.log(usage(flags));
    exit(0);
  }
  let command: string[] = [];
  // Failures inside event handlers (after the child started) are reported the same way.
  process.on('uncaughtException', (error) => report(error, command, flags));
  // A line we cannot write (stderr on a full disk) must not stop the container.
  process.stderr.on('error', () => {});
  // The descriptors our caller left open (a shell's, npm's, a directory of the host's)
  // are for no program we start: the command gets 0, 1 and 2, as from docker run.
  closeOnExecFrom(3);
  cacheForChildren(); // run directly, without NODE_COMPILE_CACHE: shared/runtime/compile-cache.ts
  // SIGUSR1 opens Node's debugger (on 127.0.0.1:9229, running code as us) to whoever may
  // signal us: in a container, its root. A listener of our own keeps that door shut.
  process.on('SIGUSR1', () => {});
  try {
    if (verb === 'run') {
      const parsed = parseFlags(words, flags);
      command = parsed.command;
      // Steps 10+: no command runs the image's own (its Entrypoint and Cmd, if it has them).
      if (command.length === 0 && !Object.hasOwn(flags, 'image')) throw new UsageError('');
      checkCommand(command);
      // Who holds the terminal: the container's first process, once it starts (terminal.ts).
      if (verbs.child) passTerminalOn();
      if (verbs.child) prepareChildEnv(); // no NODE_OPTIONS for it, and a mark: child-env.ts
      Promise.resolve(verbs.run(command, parsed.values)).catch((error) => report(error, command, flags));
    } else if (verb === 'child' && verbs.child) {
      if (!startedByRun() || !inNewNamespaces()) throw new UsageError('child is internal: `run` starts it, in the namespaces it made');
      dieWithRuntime(); // should the runtime be killed: init.ts
      const parsed = parseFlags(words, CHILD_FLAGS);
      command = parsed.command;
      if (command.length === 0) throw new UsageError('');
      takeTerminal();
      verbs.child(command, parsed.values);
    } else {
      throw new UsageError('');
    }
  } catch (error) {
    report(error, command, flags);
  }
}

/** The article's greeting: "Running [echo hello] as PID 4242", on stderr. */
export function announce(command: string[]): void {
  process.stderr.write(`Running [${command.map(printable).join(' ')}] as PID ${process.pid}\n`);
}

/**
 * Whether this process is in a UTS namespace of its own, as `run` starts its child
 * (from step 03 on). Typed by hand as root on the host, `main.ts child` would rename the
 * host, and from step 06 on pivot_root the host's whole tree. /proc/1 is the host's
 * init (or a sandbox's); when we may not read it, we are unprivileged, and harmless.
 */
function inNewNamespaces(): boolean {
  try {
    return readlinkSync('/proc/self/ns/uts') !== readlinkSync('/proc/1/ns/uts');
  } catch {
    return true;
  }
}

/**
 * What no command can be: an empty name (docker: "command not found", 127), or bytes
 * that are not UTF-8. Node decodes its arguments as UTF-8 text and would pass such an
 * argument on changed (each bad byte becomes U+FFFD): refuse it instead. The kernel
 * keeps the bytes as they came in /proc/self/cmdline.
 */
function checkCommand(command: string[]): void {
  if (command[0] === '') fail("'': command not found", EXIT_NOT_FOUND);
  let raw: Buffer[];
  try {
    raw = splitNul(readFileSync('/proc/self/cmdline')).slice(-command.length);
  } catch {
    return; // no /proc to tell
  }
  const bad = command.findIndex((arg, index) => !Buffer.from(arg).equals(raw[index]!));
  if (bad !== -1) throw new RuntimeError(`argument ${bad + 1} of the command is not UTF-8 text, which Node cannot pass on unchanged`);
}

function splitNul(bytes: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  for (let start = 0, end = bytes.indexOf(0); end !== -1; start = end + 1, end = bytes.indexOf(0, start))
    parts.push(bytes.subarray(start, end));
  return parts;
}

function usage(flags: Flags): string {
  const file = relative(process.cwd(), script) || script;
  const options = Object.entries(flags)
    .filter(([, flag]) => !flag.refused)
    .map(([name, flag]) => `[${flag.short ? `-${flag.short}|` : ''}--${name}${flag.example ? ` ${flag.example}` : ''}] `);
  // `--` first where Node would read an option of ours as its own (--env-file: cli.ts's top)
  const or = `${'env-file' in flags ? '-- ' : ''}run ${options.length ? '[options] ' : ''}`;
  // with --image, the command is the image's own unless one is given
  const command = 'image' in flags ? '[<cmd> [args...]]' : '<cmd> [args...]';
  return `usage: npm run step:${stepNumber} -- ${options.join('')}${command}   (or: node ${file} ${or}${command})`;
}

function defaults<F extends Flags>(flags: F): FlagValues<F> {
  return Object.fromEntries(Object.entries(flags).map(([name, flag]) => [name, flag.default])) as FlagValues<F>;
}

/** `--memory 64m --pids=32 -p 80 -- sh -c x`: options up to the first other word (or `--`). */
export function parseFlags<F extends Flags>(words: string[], flags: F): { values: FlagValues<F>; command: string[] } {
  const values: Record<string, unknown> = defaults(flags);
  const shortNames = new Map(Object.entries(flags).flatMap(([name, flag]) => (flag.short ? [[`-${flag.short}`, name]] : [])));
  let index = 0;
  // Any word with a dash before the command is an option, as docker run reads it: one
  // this step does not know (`-p` before step 13) is refused, never run as the command.
  while (/^-./.test(words[index] ?? '')) {
    // `-p 8080:80` is `--publish 8080:80`
    const typed = words[index++]!;
    const word = shortNames.has(typed) ? `--${shortNames.get(typed)}` : typed;
    if (word === '--') break;
    const equals = word.indexOf('=');
    const name = word.slice(2, equals === -1 ? undefined : equals);
    if (!Object.hasOwn(flags, name)) throw new UsageError(`unknown option ${word}`);
    const flag = flags[name]!;
    // `--memory=64m`, `--memory 64m`, or a switch: `--keep`.
    const text = equals !== -1 ? word.slice(equals + 1) : flag.example === undefined ? '' : words[index++];
    const value = text === undefined ? undefined : flag.parse(text);
    if (value === undefined) {
      const given = equals === -1 && text ? `${typed} ${text}` : typed;
      const like = flag.hint ? `: ${flag.hint}` : flag.example ? ` (like --${name} ${flag.example})` : '';
      throw new UsageError(`bad option ${given}${like}`);
    }
    values[name] = flag.repeats ? [...(values[name] as unknown[]), ...(value as unknown[])] : value;
  }
  return { values: values as FlagValues<F>, command: words.slice(index) };
}

function report(error: unknown, command: string[], flags: Flags): never {
  if (error instanceof UsageError) fail(error.message ? `${error.message}; ${usage(flags)}` : usage(flags), EXIT_USAGE);
  if (error instanceof AlreadyReported) fail('', EXIT_RUNTIME);
  // EACCES: a file only root may write, such as a cgroup's (step 09).
  if (error instanceof SyscallError && ['EPERM', 'EACCES'].includes(error.code) && process.getuid?.() !== 0) {
    fail(`${error.message} - run as root: sudo npm run step:${stepNumber} -- ${command.map(shellQuote).join(' ')}`, EXIT_RUNTIME);
  }
  if (error instanceof SyscallError || error instanceof RuntimeError) fail(error.message, EXIT_RUNTIME);
  fail(`${stepFolder}: internal error: ${error instanceof Error ? error.message : String(error)}`, EXIT_RUNTIME);
}
