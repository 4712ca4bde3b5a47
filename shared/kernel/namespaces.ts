// Go's `cmd.SysProcAttr.Cloneflags` for Node: start a child in new namespaces while
// the parent stays exactly where it was.
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { RuntimeError } from '../runtime/errors.ts';
import {
  CLONE_FS,
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
  setns,
  unshare,
} from './libc.ts';

// Where the calling thread's current namespaces are, so that it can go back to them.
// For PID it is "pid_for_children": unshare(CLONE_NEWPID) never moves the caller
// itself, only the children it creates from then on.
const handles: [flag: number, file: string][] = [
  [CLONE_NEWUTS, 'uts'],
  [CLONE_NEWIPC, 'ipc'],
  [CLONE_NEWNET, 'net'],
  [CLONE_NEWNS, 'mnt'],
  [CLONE_NEWPID, 'pid_for_children'],
  [CLONE_NEWCGROUP, 'cgroup'],
];

/**
 * Spawn `file args` in new namespaces (a mask of CLONE_NEW* flags).
 *
 * unshare(2) acts on the calling thread; child_process.spawn forks from that same
 * thread, so the child is born inside the new namespaces. The parent then setns(2)s
 * back into the namespaces it saved. It must: after unshare(CLONE_NEWPID) the kernel
 * refuses to create threads, and Node aborts as soon as libuv starts its thread pool.
 */
export function spawnInNamespaces(
  file: string,
  args: string[],
  flags: number,
  options: SpawnOptions = { stdio: 'inherit' },
  // join: existing namespaces to be born in instead (step 15: an engine's pod); stay: never
  // come back (a process in a user namespace of its own may not: it only starts this child)
  { join = [], stay = false }: { join?: { flag: number; path: string }[]; stay?: boolean } = {},
): ChildProcess {
  if ((flags | join.reduce((all, { flag }) => all | flag, 0)) & CLONE_NEWUSER) {
    throw new RuntimeError('spawnInNamespaces: a multithreaded process (Node) cannot enter a user namespace');
  }
  const moved = flags | join.reduce((all, { flag }) => all | flag, 0);
  const saved = handles.filter(([flag]) => moved & flag).map(([flag, file]) => ({ flag, fd: openSync(`/proc/self/ns/${file}`, 'r') }));
  const targets = join.map(({ flag, path }) => ({ flag, fd: openSync(path, 'r') }));
  const cwd = process.cwd();
  let child: ChildProcess | undefined;
  let away = false; // whether this thread left a namespace of its own (setns back needs privilege)
  try {
    // A thread may join a mount namespace only with a root and cwd of its own (CLONE_FS).
    if (moved & CLONE_NEWNS) unshare(CLONE_FS);
    for (const { flag, fd } of targets) {
      setns(fd, flag);
      away = true;
    }
    unshare(flags);
    away = true;
    child = process.getBuiltinModule('node:child_process').spawn(file, args, options); // loaded here: ~2 ms, for those who spawn
  } finally {
    if (away && !stay) goBack(saved, moved & CLONE_NEWNS ? cwd : undefined, child);
    else for (const { fd } of saved) closeSync(fd);
    for (const { fd } of targets) closeSync(fd);
  }
  return child;
}

/** setns(2) back into the namespaces saved; should that fail, never leave the child running while we are in the wrong place. */
function goBack(saved: { flag: number; fd: number }[], cwd: string | undefined, child: ChildProcess | undefined): void {
  try {
    for (const { flag, fd } of saved) setns(fd, flag);
    // Joining a mount namespace moves the thread to its root directory: come back.
    if (cwd !== undefined) process.chdir(cwd);
  } catch (error) {
    child?.kill('SIGKILL');
    throw error;
  } finally {
    for (const { fd } of saved) closeSync(fd);
  }
}
