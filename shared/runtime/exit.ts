// How the runtime ends: the one place that calls process.exit. Whatever ends it (the
// command's exit, a signal passed on, an error), what was registered with atExit()
// runs first: a cgroup removed, a writable layer deleted.
import { printable } from './quote.ts';

/** Run `cleanup` just before the process ends, with the status it ends with. */
export function atExit(cleanup: (status: number) => void): void {
  process.on('exit', cleanup);
}

export function exit(status: number): never {
  process.exit(status);
}

/**
 * One line on stderr (none when it is empty: already said), then exit. One line even
 * when a name in it came from a registry, an image or a tar file: their control
 * characters (a terminal's escape sequences too) are shown, never sent (shared/runtime/quote.ts).
 */
export function fail(message: string, status: number): never {
  if (message) process.stderr.write(`${printable(message)}\n`);
  process.exit(status);
}
