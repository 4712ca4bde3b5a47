// A lock the kernel lets go of when its holder dies, SIGKILL included: flock(2) on a
// file of its own. Held for a while, it guards a change (the bridge network, the image
// store: another waits its turn); held for a runtime's life, it says "mine, while I
// live" (an ID range, an address, a running container), and a dead runtime's needs no
// cleaning up. The one way the project locks, written once.
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

/**
 * Take the lock of `path` if no one holds it, for as long as this process lives: the
 * open descriptor (close-on-exec), or undefined when another holds it.
 */
export function holdLock(path: string): number | undefined {
  let fd: number;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    fd = openSync(path, 'a', 0o600);
  } catch (error) {
    throw fsError(`lock ${path}`, error);
  }
  if (tryLock(fd)) return fd;
  closeSync(fd);
  return undefined;
}

/** Whether a living process holds the lock of `path` (no file: no one). */
export function isHeld(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    return !tryLock(fd);
  } finally {
    closeSync(fd);
  }
}
