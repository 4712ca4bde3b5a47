// The terminal, shared by the learner's shell, the runtime and the container. A key's
// signal (Ctrl-C, Ctrl-\) goes to the terminal's *foreground process group*, whichever
// processes are in it. As `docker run -it`, the keys should reach the container only.
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { SyscallError } from './errors.ts';
import { setpgid, tcsetpgrp, withSignalBlocked } from './libc.ts';

// How the runtime tells its child that the terminal is theirs to take.
const FOREGROUND = 'CONTAINER_TERMINAL_FOREGROUND';

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

/** The runtime, before it starts its child: say whether we hold the terminal. */
export function passTerminalOn(): void {
  if (inTerminalForeground()) process.env[FOREGROUND] = '1';
}

/**
 * The container's first process (steps 03+), as it starts: a process group of its own,
 * which the command will share, and, if the runtime held the terminal, the terminal.
 * Then a key reaches the command (and us, who then leave it alone: command.ts), never
 * the runtime. And the command's process group is one it can see: in a PID namespace,
 * a group outside it shows as 0, and a shell that puts the terminal back on exit
 * (dash, /bin/sh of Debian) fails there, and exits 2 instead of its status.
 */
export function takeTerminal(): void {
  const ours = process.env[FOREGROUND] === '1';
  delete process.env[FOREGROUND]; // not for the command's environment
  setpgid(0, 0);
  if (!ours) return;
  try {
    // We have just left the foreground group: the kernel stops a background process
    // that changes the terminal (SIGTTOU), unless it blocks that signal.
    withSignalBlocked(constants.signals.SIGTTOU, () => tcsetpgrp(0, process.pid));
  } catch (error) {
    // ENOTTY: stdin is not our terminal (a pipe, a file). Then there is none to take.
    if (!(error instanceof SyscallError && error.code === 'ENOTTY')) throw error;
  }
}
