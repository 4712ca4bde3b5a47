// Waiting for the container's command the way `docker run` does: signals we receive
// are passed on, and its exit status becomes ours.
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { die, EXIT_CANNOT_EXECUTE, EXIT_NOT_FOUND, EXIT_RUNTIME } from './errors.ts';

/** The signals a user sends to stop or interrupt a container. */
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;

/**
 * Pass the stop signals on to `child`, and exit with its status once it ends:
 * its exit code, or 128+N when signal N killed it (what a shell and docker report).
 * A command that cannot be started exits 127 (not found) or 126 (not executable).
 */
export function exitWith(child: ChildProcess): void {
  child.on('error', (error: NodeJS.ErrnoException) => {
    const name = child.spawnfile;
    if (error.code === 'ENOENT') die(`${name}: command not found`, EXIT_NOT_FOUND);
    if (error.code === 'EACCES') die(`${name}: permission denied`, EXIT_CANNOT_EXECUTE);
    die(`${name}: ${error.message}`, EXIT_RUNTIME);
  });
  for (const signal of FORWARDED_SIGNALS) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    process.exit(code ?? 128 + constants.signals[signal ?? 'SIGKILL']);
  });
}
