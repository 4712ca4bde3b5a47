// How a step fails: one line on stderr and a status, never a stack trace.
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

// Exit statuses, as docker run uses them.
export const EXIT_USAGE = 2;
export const EXIT_RUNTIME = 125; // the runtime itself failed; the command never ran
export const EXIT_CANNOT_EXECUTE = 126;
export const EXIT_NOT_FOUND = 127;

/** Print one line to stderr and exit. */
export function die(message: string, status: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(status);
}
