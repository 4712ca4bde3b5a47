// Step 07: IPC and network namespaces. The container's System V IPC objects and POSIX
// message queues are its own, and its network is a new one that holds only `lo`, down
// until the child brings it up: nothing in it reaches anything outside.
import { flushCompileCache } from 'node:module';
import { ensureRootfs } from '../../shared/image/rootfs.ts';
import { InterfaceRequest } from '../../shared/kernel/ifreq.ts';
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
    libc.CLONE_NEWUTS | libc.CLONE_NEWPID | libc.CLONE_NEWNS | libc.CLONE_NEWIPC | libc.CLONE_NEWNET,
  );
  exitWith(child);
}

function child(command: string[], { root }: ChildOptions): void {
  announce(command);
  libc.sethostname(HOSTNAME);
  bringUpLoopback();
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

/** Step 07: `lo`, down in a new network namespace, brought up as `ip link set lo up` does. */
function bringUpLoopback(): void {
  // Read its flags, add IFF_UP, write them back: ioctl(2)s on any socket of the namespace.
  const fd = libc.socket(libc.AF_INET, libc.SOCK_DGRAM | libc.SOCK_CLOEXEC);
  const lo = new InterfaceRequest('lo'); // struct ifreq: shared/kernel/ifreq.ts
  libc.ioctl(fd, libc.SIOCGIFFLAGS, lo.buffer);
  lo.flags |= libc.IFF_UP;
  libc.ioctl(fd, libc.SIOCSIFFLAGS, lo.buffer);
  libc.close(fd);
}
