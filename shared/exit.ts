// How the runtime ends: the one place that calls process.exit. Whatever ends it (the
// command's exit, a signal passed on, an error), what was registered with atExit()
// runs first: a cgroup removed, a writable layer deleted.

/** Run `cleanup` just before the process ends, with the status it ends with. */
export function atExit(cleanup: (status: number) => void): void {
  process.on('exit', cleanup);
}

export function exit(status: number): never {
  process.exit(status);
}

/** One line on stderr (none when it is empty: already said), then exit. */
export function fail(message: string, status: number): never {
  if (message) process.stderr.write(`${message}\n`);
  process.exit(status);
}
