// Waiting for the container's command the way `docker run` does: signals we receive
// are passed on, and its exit status becomes ours.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { constants } from 'node:os';
import type { ProcessSpec } from '../image/config.ts';
import type { WaitingContainer } from '../userns/start.ts';
import { EXIT_CANNOT_EXECUTE, EXIT_NOT_FOUND, EXIT_RUNTIME } from './errors.ts';
import { exit, fail } from './exit.ts';
import { printable } from './quote.ts';
import { inTerminalForeground } from './terminal.ts';

/**
 * Start the container's command, with our stdin, stdout and stderr. With an image's
 * config (steps 10+): in its environment, its working directory (made if missing, as
 * docker does) and as its user (root's, 0, if it names none).
 */
export function startCommand([file, ...args]: string[], spec?: ProcessSpec): ChildProcess {
  // Made only if missing: a mkdir refused by a seccomp profile must not stop a directory that exists
  if (spec && !existsSync(spec.cwd)) mkdirSync(spec.cwd, { recursive: true });
  const { env, cwd, uid, gid } = spec ?? {};
  // On a terminal, TERM says what kind (docker run -t's): the image's own, if it says one.
  const withTerm = env && process.stdin.isTTY ? { TERM: 'xterm', ...env } : env;
  return spawn(file!, args, { stdio: 'inherit', env: withTerm, cwd, uid, gid });
}

/** The signals a user sends to stop or interrupt a container. */
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;

/** The signals of a terminal's keys: Ctrl-C and Ctrl-\. */
const KEY_SIGNALS: readonly string[] = ['SIGINT', 'SIGQUIT'];

// A key's signal goes to the terminal's whole foreground group. When we are in it, so
// is the command, which has the signal already: passing it on would deliver it twice,
// and a command that counts its Ctrl-Cs, or cleans up on the first, would see two.
// (From step 03 on, the container's first process takes the terminal: terminal.ts.)
//
// Listening from the start, not only once the child runs: a signal that came first
// would end us (or, sent to a PID 1 with no handler, vanish), and the child with it.
// It waits for the child instead.
let passOn: ((signal: NodeJS.Signals) => void) | undefined;
let sharesOurTerminal = true;
const early: NodeJS.Signals[] = [];
for (const signal of FORWARDED_SIGNALS) {
  process.on(signal, () => {
    if (!passOn) early.push(signal);
    else if (!(KEY_SIGNALS.includes(signal) && sharesOurTerminal && inTerminalForeground())) passOn(signal);
  });
}

/**
 * Pass the stop signals on to `started`, and exit with its status once it ends:
 * its exit code, or 128+N when signal N killed it (what a shell and docker report).
 * A command that cannot be started exits 127 (not found) or 126 (not executable).
 * A container in a user namespace (steps 08+): the signals go to its first process, and
 * the keys' too (it is on no terminal of ours); we exit once its terminal is drained.
 */
export function exitWith(started: ChildProcess | WaitingContainer): void {
  const [child, container] = 'start' in started ? [started.process, started] : [started, undefined];
  if (container) sharesOurTerminal = false;
  child.on('error', (error: NodeJS.ErrnoException) => {
    const name = printable(child.spawnfile);
    if (error.code === 'ENOENT') fail(`${name}: command not found`, EXIT_NOT_FOUND);
    if (error.code === 'EACCES') fail(`${name}: permission denied`, EXIT_CANNOT_EXECUTE);
    fail(`${name}: ${error.message}`, EXIT_RUNTIME);
  });
  passOn = (signal) => {
    try {
      if (container) process.kill(container.pid, signal);
      else child.kill(signal);
    } catch {
      // it has just ended: its exit is on its way to us
    }
  };
  for (const signal of early.splice(0)) passOn(signal);
  child.on('exit', (code, signal) => {
    const status = code ?? 128 + constants.signals[signal ?? 'SIGKILL'];
    // What the container wrote last is still on its way through its terminal (a second at most).
    const drained = container?.drained ?? Promise.resolve();
    Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 1000))]).then(() => exit(status));
  });
}
