// A lock the kernel lets go of when its holder dies, SIGKILL included: flock(2) on a
// file of its own. Who holds it may change what the lock guards (the bridge network,
// the image store); another waits its turn. Nothing to clean up after a crash.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { fsError, lock, tryLock } from './libc.ts';

/**
 * Open `path` (its directory made root's only) and wait until its lock is ours;
 * `onWait` runs first if another holds it. Close the descriptor to let go.
 */
export function waitForLock(path: string, onWait?: () => void): number {
  let fd: number;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    fd = openSync(path, 'a', 0o600); // close-on-exec: no program we start holds it
  } catch (error) {
    throw fsError(`lock ${path}`, error);
  }
  if (!tryLock(fd)) {
    onWait?.();
    lock(fd);
  }
  return fd;
}

/** Run `action` while holding the lock of `path`. */
export function withLock<T>(path: string, action: () => T): T {
  const fd = waitForLock(path);
  try {
    return action();
  } finally {
    closeSync(fd);
  }
}
