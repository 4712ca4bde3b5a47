// The container's own first process: the `child` that the runtime re-executes (steps
// 03+), which from step 04 on is PID 1 of the container's PID namespace. A PID 1 has
// duties that an ordinary process has not, and every small init (tini, dumb-init,
// docker --init) exists because programs started as PID 1 tend to forget them.
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { P_ALL, PR_SET_PDEATHSIG, prctl, WEXITED, WNOHANG, WNOWAIT, waitid, waitpid } from '../kernel/libc.ts';
import { SyscallError } from './errors.ts';

/**
 * The first duty, as the child starts, before anything else: if the runtime is killed
 * with SIGKILL it can pass nothing on. The kernel then sends us SIGKILL (the "parent
 * death signal": it fires when the thread that spawned us ends). As PID 1 our end ends
 * every process in the PID namespace (steps 04+). Before step 04 the command outlives
 * us: nothing but a PID namespace finds every process it may have started. Set any
 * later (once the command runs), a runtime killed in between would leave the container
 * running. (If it died while our Node was starting up, no signal comes: runc closes that
 * gap with a pipe to its parent; we leave it open.)
 */
export function dieWithRuntime(): void {
  prctl(PR_SET_PDEATHSIG, constants.signals.SIGKILL);
}

/** Take up the duties of the container's first process, once `command` has started. */
export function superviseAsInit(command: ChildProcess): void {
  // An orphan (a process whose parent ended first) is adopted by PID 1, and stays a
  // zombie, an entry in the process table, until PID 1 waits for it. Every SIGCHLD,
  // we wait for the children that have ended, except the command itself: Node (libuv)
  // waits for that one, and reports its exit status.
  if (process.pid === 1) process.on('SIGCHLD', () => reapOrphans(command.pid));
}

function reapOrphans(commandPid: number | undefined): void {
  for (let pid = endedChild(); pid !== 0 && pid !== commandPid; pid = endedChild()) {
    waitpid(pid, WNOHANG);
  }
}

/** A child that has ended, left unreaped (WNOWAIT) so that we can choose; 0: none. */
function endedChild(): number {
  try {
    return waitid(P_ALL, 0, WEXITED | WNOHANG | WNOWAIT);
  } catch (error) {
    if (error instanceof SyscallError && error.code === 'ECHILD') return 0; // no children left
    throw error;
  }
}
