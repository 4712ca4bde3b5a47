// The environment of the runtime's child, `main.ts child`: our own Node, re-executed as
// the container's first process (steps 03+).
// - A mark that `run` started it: typed by hand (as root, after `unshare --uts`),
//   `child` would rename the host and, from step 06 on, pivot the caller's whole tree.
// - None of the variables that change what Node does: NODE_OPTIONS can preload any
//   module (--require), open a debugger (--inspect)... in a process that runs inside the
//   container. Only the compile cache stays (shared/runtime/compile-cache.ts).
const MARK = 'CONTAINER_CHILD';

/** The runtime, before it starts its child: scrub and mark our environment, which it inherits. */
export function prepareChildEnv(): void {
  for (const name of Object.keys(process.env)) {
    if (name.startsWith('NODE_') && name !== 'NODE_COMPILE_CACHE') delete process.env[name];
  }
  process.env[MARK] = '1';
}

/**
 * `env` (another environment than ours: a pulled image's, -e's), scrubbed and marked
 * too: its NODE_OPTIONS is the command's, never our child's, which runs as the
 * container's root before anything is taken from it.
 */
export function markedEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const scrubbed = Object.entries(env).filter(([name]) => !name.startsWith('NODE_') || name === 'NODE_COMPILE_CACHE');
  return { ...Object.fromEntries(scrubbed), [MARK]: '1' };
}

/** The child, as it starts: whether `run` started it; the mark is not for the command. */
export function startedByRun(): boolean {
  const marked = process.env[MARK] === '1';
  delete process.env[MARK];
  return marked;
}
