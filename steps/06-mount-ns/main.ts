// Step 06: a mount namespace. The child's mounts are its own: none propagates back to
// the host, and it pivot_roots into the root filesystem, which unmounts the host's
// whole tree in the container instead of merely hiding it (chroot).
//   node steps/06-mount-ns/main.ts run <cmd> <args>    (npm run step:6 -- <cmd> <args>)
// The proc mount no longer stays on the host, the host's mount table is out of sight,
// and `escape-chroot` (in the root filesystem: it escapes step 05) finds no way out.
// IPC objects and the network are still the host's.
import { spawn } from 'node:child_process';
import { flushCompileCache } from 'node:module';
import { ensureRootfs } from '../../shared/image/rootfs.ts';
import {
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUTS,
  MNT_DETACH,
  MS_BIND,
  MS_PRIVATE,
  MS_REC,
  mount,
  pivotRoot,
  sethostname,
  umount2,
} from '../../shared/kernel/libc.ts';
import { spawnInNamespaces } from '../../shared/kernel/namespaces.ts';
import { announce, type ChildOptions, main } from '../../shared/runtime/cli.ts';
import { exitWith } from '../../shared/runtime/command.ts';
import { superviseAsInit } from '../../shared/runtime/init.ts';

main({ run, child });

function run(command: string[]): void {
  announce(command);
  const rootfs = ensureRootfs(); // built from busybox on first use: shared/image/rootfs.ts
  // /proc/self/exe is the program running now: node, which runs this file again.
  const child = spawnInNamespaces(
    '/proc/self/exe',
    [import.meta.filename, 'child', `--root=${rootfs}`, '--', ...command],
    CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS,
  );
  exitWith(child);
}

function child(command: string[], { root }: ChildOptions): void {
  announce(command);
  sethostname('container-demo');
  // The new mount namespace starts with copies of the host's mounts, and where the
  // host's are "shared" (systemd makes / shared) each copy is a *peer*: a mount made
  // under one appears under the other. MS_PRIVATE, recursively, cuts every link.
  mount(null, '/', null, MS_REC | MS_PRIVATE);
  mount('proc', `${root}/proc`, 'proc', 0); // this PID namespace's /proc, in the new root
  // pivot_root wants the new root to be a mount point: bind-mount it onto itself.
  mount(root, root, null, MS_BIND | MS_REC);
  // Node writes what it compiled (NODE_COMPILE_CACHE) as it exits, when the cache is
  // out of sight: now, then. Every module this process needs is loaded by now.
  flushCompileCache();
  // pivot_root(".", "."): the new root becomes `/`, and the old root is stacked on top
  // of it, at the same place. No "put_old" directory is needed (and none is left in the
  // root filesystem). Then peel the old root off, with every mount under it: lazily
  // (MNT_DETACH), since the host's mounts may be busy. Nothing above `/` is left.
  process.chdir(root);
  pivotRoot('.', '.');
  umount2('.', MNT_DETACH);
  process.chdir('/');
  const [file, ...args] = command;
  const started = spawn(file!, args, { stdio: 'inherit' });
  superviseAsInit(started); // the duties of a container's first process: shared/runtime/init.ts
  exitWith(started);
}
