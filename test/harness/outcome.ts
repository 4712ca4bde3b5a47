// Reading what a sandbox script printed (an Outcome): the words every test uses.
import type { Outcome } from './sandbox.ts';

/** The value of the line `key=value` in the script's stdout; undefined if it printed none. */
export function value(outcome: Outcome, key: string): string | undefined {
  return outcome.stdout.match(new RegExp(`^${key}=(.*)$`, 'm'))?.[1];
}

/**
 * The runtime's own lines on stderr: every non-empty line but the article's
 * "Running [...] as PID n", which every step prints as it starts the command.
 */
export function runtimeLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line && !line.startsWith('Running ['));
}

/** A stack trace, or Node's internals, on stderr: never what a runtime should show a user. */
export const NO_STACK_TRACE = /^\s+at |node:internal|Error: /m;
