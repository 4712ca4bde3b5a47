// What can go wrong, as values: each kind of failure the runtime reports in one line.
// How the process then ends (the line, the status) is shared/runtime/exit.ts's business.
import { constants } from 'node:os';

const errnoNames = new Map(Object.entries(constants.errno).map(([name, no]) => [no, name]));

/** A syscall that returned -1: "sethostname: EPERM (Operation not permitted)". */
export class SyscallError extends Error {
  readonly call: string;
  readonly code: string;
  constructor(call: string, errno: number, text: string) {
    const code = errnoNames.get(errno) ?? `errno ${errno}`;
    super(`${call}: ${code} (${text})`);
    this.call = call;
    this.code = code;
  }
}

/** Something the learner can fix, said in one line ("busybox is missing: ..."). */
export class RuntimeError extends Error {}

/** A command line the runtime cannot take: the usage line, status 2. */
export class UsageError extends Error {}

/** A failure a tool we ran has already explained on stderr: nothing more to say. */
export class AlreadyReported extends Error {}

// Exit statuses, as docker run uses them.
export const EXIT_USAGE = 2;
export const EXIT_RUNTIME = 125; // the runtime itself failed; the command never ran
export const EXIT_CANNOT_EXECUTE = 126;
export const EXIT_NOT_FOUND = 127;
