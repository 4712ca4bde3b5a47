// The command line every step shares: `main.ts run <cmd> [args...]`, plus the
// internal `child` verb of the steps that re-execute themselves.
import { basename, dirname, relative } from 'node:path';
import { die, EXIT_RUNTIME, EXIT_USAGE, RuntimeError, SyscallError } from './errors.ts';

type Verb = (command: string[]) => void;

const script = process.argv[1] ?? '';
const stepFolder = basename(dirname(script)); // "03-hostname"
const stepNumber = Number.parseInt(stepFolder, 10); // 3

/** Run the verb named on the command line; report any failure in one line. */
export function main(verbs: Record<string, Verb>): void {
  const [verb = '', ...command] = process.argv.slice(2);
  if (verb === '--help' || verb === '-h') {
    console.log(usage());
    process.exit(0);
  }
  if (!Object.hasOwn(verbs, verb) || command.length === 0) die(usage(), EXIT_USAGE);
  // Failures inside event handlers (after the child started) are reported the same way.
  process.on('uncaughtException', (error) => die(explain(error, command), EXIT_RUNTIME));
  try {
    verbs[verb]!(command);
  } catch (error) {
    die(explain(error, command), EXIT_RUNTIME);
  }
}

/** The article's greeting: "Running [echo hello] as PID 4242", on stderr. */
export function announce(command: string[]): void {
  process.stderr.write(`Running [${command.join(' ')}] as PID ${process.pid}\n`);
}

function usage(): string {
  const file = relative(process.cwd(), script) || script;
  return `usage: npm run step:${stepNumber} -- <cmd> [args...]   (or: node ${file} run <cmd> [args...])`;
}

function explain(error: unknown, command: string[]): string {
  if (error instanceof SyscallError && error.code === 'EPERM' && process.getuid?.() !== 0) {
    return `${error.message} - run as root: sudo npm run step:${stepNumber} -- ${command.map(quote).join(' ')}`;
  }
  if (error instanceof SyscallError || error instanceof RuntimeError) return error.message;
  return `${stepFolder}: internal error: ${error instanceof Error ? error.message : String(error)}`;
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}
