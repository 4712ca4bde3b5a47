// Which containers are still running, for `npm run clean`, which must never touch a
// running container's cgroup or layer, not even one whose runtime has just made it and
// not filled it yet. Each runtime holds a lock, <state>/running/<id>.lock, from before
// it makes anything until it ends: the kernel releases the lock when the process dies,
// SIGKILL included, and it tells in any PID namespace (a PID would not).
import { closeSync, mkdirSync, openSync, readdirSync, rmSync } from 'node:fs';
import { stateDir } from './config.ts';
import { SyscallError } from './errors.ts';
import { atExit } from './exit.ts';
import { flock, fsError, LOCK_EX, LOCK_NB } from './libc.ts';

const runningDir = () => `${stateDir()}/running`;
const lockOf = (id: string) => `${runningDir()}/${id}.lock`;
const held = new Set<string>();

/** Hold container `id`'s lock for as long as this process lives. */
export function holdLiveness(id: string): void {
  if (held.has(id)) return;
  let fd: number;
  try {
    mkdirSync(runningDir(), { recursive: true, mode: 0o700 });
    fd = openSync(lockOf(id), 'w', 0o600); // close-on-exec: the container never holds it
  } catch (error) {
    throw fsError(`open ${lockOf(id)}`, error);
  }
  flock(fd, LOCK_EX | LOCK_NB); // new and ours: nobody else holds it
  held.add(id);
  atExit(() => rmSync(lockOf(id), { force: true })); // the lock itself goes with the process
}

/** Whether container `id`'s runtime is alive: its lock is held. */
export function isAlive(id: string): boolean {
  let fd: number;
  try {
    fd = openSync(lockOf(id), 'r');
  } catch {
    return false; // no lock: its runtime is gone (or never took one)
  }
  try {
    flock(fd, LOCK_EX | LOCK_NB);
    return false;
  } catch (error) {
    if (error instanceof SyscallError && error.code === 'EAGAIN') return true; // EWOULDBLOCK: held
    throw error;
  } finally {
    closeSync(fd);
  }
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
