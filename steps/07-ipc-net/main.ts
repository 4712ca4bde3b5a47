// Step 07: IPC and network namespaces. System V IPC objects (shared memory, semaphores,
// message queues) and POSIX message queues made on the host are no longer visible
// inside, and the container gets a network stack of its own: one loopback interface,
// which the child brings up, and none of the host's interfaces.
//   node steps/07-ipc-net/main.ts run <cmd> <args>    (npm run step:7 -- <cmd> <args>)
// Root inside is still root on the host: files the host's root owns are its own.
import { spawn } from 'node:child_process';
import { flushCompileCache } from 'node:module';
import { ensureRootfs } from '../../shared/image/rootfs.ts';
import { InterfaceRequest } from '../../shared/kernel/ifreq.ts';
import {
  AF_INET,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUTS,
  close,
  IFF_UP,
  ioctl,
  MNT_DETACH,
  MS_BIND,
  MS_PRIVATE,
  MS_REC,
  mount,
  pivotRoot,
  SIOCGIFFLAGS,
  SIOCSIFFLAGS,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  sethostname,
  socket,
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
    CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET,
  );
  exitWith(child);
}

function child(command: string[], { root }: ChildOptions): void {
  announce(command);
  sethostname('container-demo');
  // A new network namespace has one interface, the loopback `lo`, and it is down: even
  // 127.0.0.1 is unreachable. Up it goes, as `ip link set lo up` does it: read its
  // flags, add IFF_UP, write them back, with ioctl(2)s on any socket of the namespace.
  const fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC);
  const lo = new InterfaceRequest('lo'); // struct ifreq: shared/kernel/ifreq.ts
  ioctl(fd, SIOCGIFFLAGS, lo.buffer);
  lo.flags |= IFF_UP;
  ioctl(fd, SIOCSIFFLAGS, lo.buffer);
  close(fd);
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
