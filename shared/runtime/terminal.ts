// The terminal, shared by the learner's shell, the runtime and the container. A key's
// signal (Ctrl-C, Ctrl-\) goes to the terminal's *foreground process group*, whichever
// processes are in it. As `docker run -it`, the keys should reach the container only.
// Steps 03-07 share our terminal with the container: its first process takes the
// foreground. From step 08 on the container has one of its own (shared/runtime/pty.ts), or,
// when ours is not a terminal, none: a session of its own, with no terminal to type into.
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { ioctlValue, setpgid, setsid, TIOCSCTTY, tcsetpgrp, withSignalBlocked } from '../kernel/libc.ts';
import { SyscallError } from './errors.ts';
import { atExit } from './exit.ts';

// How the runtime tells its child what it has: `shared` (ours, whose foreground the
// runtime holds), `own` (a pseudo-terminal of its own on stdin) or `none`.
const TERMINAL = 'CONTAINER_TERMINAL';
type TerminalMode = 'shared' | 'own' | 'none';

/** Whether this process is in its terminal's foreground process group. */
export function inTerminalForeground(): boolean {
  try {
    // /proc/self/stat: "pid (name) state ppid pgrp session tty_nr tpgid ..."
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const [, , pgrp, , , tpgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(pgrp) > 0 && pgrp === tpgid; // 0: a group outside our PID namespace
  } catch {
    return false; // no /proc to tell
  }
}

/**
 * The runtime, before it starts its child (steps 03-07): say whether we hold the
 * terminal. If we do, we take it back as we end, as a shell does once its job is done:
 * the container's group, gone, is still the terminal's foreground, and the caller's shell,
 * in the background of its own terminal, could not read it (EIO).
 */
export function passTerminalOn(): void {
  if (!inTerminalForeground()) return;
  process.env[TERMINAL] = 'shared';
  const ours = Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[2]);
  atExit(() => {
    try {
      withSignalBlocked(constants.signals.SIGTTOU, () => tcsetpgrp(0, ours));
    } catch {
      // the terminal is gone, or no longer ours to give back
    }
  });
}

/** The environment for a child that gets a terminal of its own, or none (steps 08+). */
export function terminalEnv(env: NodeJS.ProcessEnv, own: boolean): NodeJS.ProcessEnv {
  return { ...env, [TERMINAL]: own ? 'own' : 'none' };
}

/**
 * The container's first process (steps 03+), as it starts. Then a key reaches the
 * command (and us, who then leave it alone: command.ts), never the runtime.
 * - `own`: a new session, whose controlling terminal is the one on stdin (TIOCSCTTY):
 *   its foreground group is then ours, which the command will share;
 * - `none`: a new session with no terminal at all;
 * - `shared`, or nothing said (steps 03-07): a process group of our own, and if the
 *   runtime held the terminal, its foreground. In a PID namespace, a group outside it
 *   shows as 0, and a shell that puts the terminal back on exit (dash, /bin/sh of
 *   Debian) fails there, and exits 2 instead of its status.
 */
export function takeTerminal(): void {
  const mode = process.env[TERMINAL] as TerminalMode | undefined;
  delete process.env[TERMINAL]; // not for the command's environment
  if (mode === 'own' || mode === 'none') {
    setsid();
    if (mode === 'own') ioctlValue(0, TIOCSCTTY, 0);
    return;
  }
  setpgid(0, 0);
  if (mode !== 'shared') return;
  try {
    // We have just left the foreground group: the kernel stops a background process
    // that changes the terminal (SIGTTOU), unless it blocks that signal.
    withSignalBlocked(constants.signals.SIGTTOU, () => tcsetpgrp(0, process.pid));
  } catch (error) {
    // ENOTTY: stdin is not our terminal (a pipe, a file). Then there is none to take.
    if (!(error instanceof SyscallError && error.code === 'ENOTTY')) throw error;
  }
}
