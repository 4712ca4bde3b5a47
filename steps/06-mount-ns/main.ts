// Step 06: a mount namespace. The child's mounts are its own, none propagates back to the
// host, and pivot_root unmounts the host's whole tree in the container instead of hiding
// it: the proc mount no longer stays behind, and `escape-chroot` finds no way out.
import { flushCompileCache } from 'node:module';
import { ensureRootfs } from '../../shared/image/rootfs.ts';
import * as libc from '../../shared/kernel/libc.ts';
import { spawnInNamespaces } from '../../shared/kernel/namespaces.ts';
import { announce, type ChildOptions, main } from '../../shared/runtime/cli.ts';
import { exitWith, startCommand } from '../../shared/runtime/command.ts';
import { superviseAsInit } from '../../shared/runtime/init.ts';

const HOSTNAME = 'container-demo';

main({ run, child });

function run(command: string[]): void {
  announce(command);
  const rootfs = ensureRootfs(); // built from busybox on first use: shared/image/rootfs.ts
  // /proc/self/exe is the program running now: node, which runs this file again.
  const child = spawnInNamespaces(
    '/proc/self/exe',
    [import.meta.filename, 'child', `--root=${rootfs}`, '--', ...command],
    libc.CLONE_NEWUTS | libc.CLONE_NEWPID | libc.CLONE_NEWNS,
  );
  exitWith(child);
}

function child(command: string[], { root }: ChildOptions): void {
  announce(command);
  libc.sethostname(HOSTNAME);
  pivotInto(root);
  const started = startCommand(command);
  superviseAsInit(started); // the duties of a container's first process: shared/runtime/init.ts
  exitWith(started);
}

/** Step 06: the root filesystem as `/`, and the host's whole tree unmounted (pivot_root). */
function pivotInto(root: string): void {
  // The mount namespace's mounts start as copies of the host's, maybe linked to them
  // ("shared": a mount under one appears under the other). MS_PRIVATE cuts every link.
  libc.mount(null, '/', null, libc.MS_REC | libc.MS_PRIVATE);
  libc.mount('proc', `${root}/proc`, 'proc', 0); // this PID namespace's /proc, in the new root
  libc.mount(root, root, null, libc.MS_BIND | libc.MS_REC); // pivot_root wants a mount point
  flushCompileCache(); // Node writes its compile cache as it exits, when it is out of sight: now, then
  // pivot_root(".", "."): the new root becomes `/`, the old one is stacked on top of it.
  // Then peel the old one off, with every mount under it (lazily: they may be busy).
  process.chdir(root);
  libc.pivotRoot('.', '.');
  libc.umount2('.', libc.MNT_DETACH);
  process.chdir('/');
}
