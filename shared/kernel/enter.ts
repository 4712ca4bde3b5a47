// Do something inside another process's namespace, then come back: setns(2) there, run
// `action`, setns(2) home. Only Node's main thread moves (setns acts on the calling
// thread), and a process spawned meanwhile, forked from that thread, is born there:
// that is how the runtime runs `ip` in a container's network namespace.
import { closeSync, openSync } from 'node:fs';
import { CLONE_FS, CLONE_NEWNET, CLONE_NEWNS, setns, unshare } from './libc.ts';

const TYPES = { mnt: CLONE_NEWNS, net: CLONE_NEWNET } as const;

export function inNamespaceOf<T>(pid: number, type: keyof typeof TYPES, action: () => T): T {
  const ours = openSync(`/proc/self/ns/${type}`, 'r');
  const cwd = process.cwd();
  try {
    const theirs = openSync(`/proc/${pid}/ns/${type}`, 'r');
    try {
      // A thread may change mount namespace only with a root and cwd of its own: Node's
      // threads share theirs (CLONE_FS) until this thread unshares it.
      if (type === 'mnt') unshare(CLONE_FS);
      setns(theirs, TYPES[type]);
    } finally {
      closeSync(theirs);
    }
    try {
      return action();
    } finally {
      setns(ours, TYPES[type]);
      if (type === 'mnt') process.chdir(cwd); // setns moved our root and cwd: come back
    }
  } finally {
    closeSync(ours);
  }
}
