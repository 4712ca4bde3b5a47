// Which containers are still running, for `npm run clean`, which must never touch a
// running container's cgroup or layer, not even one whose runtime has just made it and
// not filled it yet. Each runtime holds a lock, <state>/running/<id>.lock, from before
// it makes anything until it ends: the kernel releases the lock when the process dies,
// SIGKILL included, and it tells in any PID namespace (a PID would not).
import { mkdirSync, openSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { fsError, tryLock } from '../kernel/libc.ts';
import { isHeld } from '../kernel/locks.ts';
import { stateDir } from './config.ts';
import { atExit } from './exit.ts';
import { makeStateDir } from './state-dir.ts';

const runningDir = () => `${stateDir()}/running`;
const lockOf = (id: string) => `${runningDir()}/${id}.lock`;
const held = new Set<string>();

/** Hold container `id`'s lock for as long as this process lives. */
export function holdLiveness(id: string): void {
  if (held.has(id)) return;
  // Locked under another name first, then renamed into place: whoever finds <id>.lock
  // finds it locked (else `npm run clean` could take it for a dead runtime's, and remove
  // it, between our open and our flock).
  const fresh = `${lockOf(id)}.${process.pid}`;
  makeStateDir(); // ours, or we stop here: shared/runtime/state-dir.ts
  try {
    mkdirSync(runningDir(), { recursive: true, mode: 0o700 });
    const fd = openSync(fresh, 'w', 0o600); // close-on-exec: the container never holds it
    tryLock(fd); // new and ours: nobody else holds it
    renameSync(fresh, lockOf(id));
  } catch (error) {
    throw fsError(`lock ${lockOf(id)}`, error);
  }
  held.add(id);
  atExit(() => rmSync(lockOf(id), { force: true })); // the lock itself goes with the process
}

/** Whether container `id`'s runtime is alive: its lock is held. */
export function isAlive(id: string): boolean {
  return isHeld(lockOf(id));
}

/** Remove the locks that no runtime holds any more; returns the ids they were for. */
export function removeDeadLocks(): string[] {
  let names: string[];
  try {
    names = readdirSync(runningDir());
  } catch {
    return [];
  }
  const ids = names.filter((name) => name.endsWith('.lock')).map((name) => name.slice(0, -'.lock'.length));
  const dead = ids.filter((id) => !isAlive(id));
  for (const id of dead) rmSync(lockOf(id), { force: true });
  return dead;
}
