// How the container's first process reaches Node and this project's files (steps 08+).
// It runs as another user on the host than the runtime (shared/userns/start.ts), and that user
// may be refused the way there: a checkout under /root (mode 0700), run by root without
// sudo, as on a fresh cloud VM: the container's root cannot pass through /root.
//
// The way round asks nothing of the directories above the project. The runtime, still
// root, starts the helper in the project directory: a working directory is kept across
// setuid and exec, like an open file descriptor, and unshare(1) moves it into the new
// mount namespace. The container's first process names each file /proc/self/cwd/<its
// path in the project>: the kernel follows that link straight to the directory, and
// checks the search permission only from there down (the project's own modes, 0755).
// Node must keep those names: by default it resolves every module to its real path, and
// that walks through /root again. The child's pivot_root then changes directory, so
// nothing of the host is left for the command to reach.
import { statSync } from 'node:fs';
import { dirname, isAbsolute, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuntimeError } from './errors.ts';

/** The checkout: the directory above shared/runtime/. */
export const PROJECT_DIR = fileURLToPath(new URL('../..', import.meta.url));

/** Node's options for a process that names its modules through /proc/self/cwd. */
export const KEEP_PATHS = ['--preserve-symlinks', '--preserve-symlinks-main'];

/**
 * `file` as a process whose working directory is PROJECT_DIR reaches it without
 * walking through the directories above; a file outside the project, as it is (and
 * then `uid` must be able to walk to it: one line if a directory on the way says no).
 */
export function throughProjectDir(file: string, uid: number): string {
  const inside = relative(PROJECT_DIR, file);
  if (!(inside === '..' || inside.startsWith('../') || isAbsolute(inside))) return `/proc/self/cwd/${inside}`;
  for (let dir = dirname(file); dir !== '/'; dir = dirname(dir)) {
    const { mode, uid: owner } = statSync(dir);
    if (owner !== uid && (mode & 0o001) === 0) {
      throw new RuntimeError(
        `${file}: the container's root (uid ${uid} on the host) cannot reach it: ${dir} is mode ${(mode & 0o777).toString(8)}; run the project's own Node (npm run step:N)`,
      );
    }
  }
  return file;
}
