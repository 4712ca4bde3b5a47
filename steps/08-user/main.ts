// Step 08: a user namespace. Root in the container is an unprivileged user on the host
// (you, or a range of IDs of its own): full power over the container's namespaces, none
// over the host's files, not even the root filesystem's, which the host's root owns.
// And, since it is no longer root, a terminal of its own (shared/runtime/pty.ts): sharing ours
// would let it type into our shell (TIOCSTI).
//   node steps/08-user/main.ts run <cmd> <args>    (npm run step:8 -- <cmd> <args>)
// Node cannot create a user namespace (it has threads): a small helper does, before
// Node starts, and waits while we write its ID maps (shared/userns/start.ts). So no root is
// needed any more: `npm run step:8 -- sh` works rootless, where the kernel allows it.
// The child's proc mount, before pivot_root since step 06, now must be: in a user
// namespace the kernel mounts a new proc only where a complete one is in sight (it
// would reveal nothing new), and pivot_root then takes the host's away.
import { spawn } from 'node:child_process';
import { flushCompileCache } from 'node:module';
import { ensureRootfs } from '../../shared/image/rootfs.ts';
import { writeFile } from '../../shared/kernel/files.ts';
import { InterfaceRequest } from '../../shared/kernel/ifreq.ts';
import {
  AF_INET,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUSER,
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
import { announce, type ChildOptions, main } from '../../shared/runtime/cli.ts';
import { exitWith } from '../../shared/runtime/command.ts';
import { superviseAsInit } from '../../shared/runtime/init.ts';
import { containerIdsOnHost } from '../../shared/userns/id-ranges.ts';
import { startInUserNamespace } from '../../shared/userns/start.ts';

main({ run, child });

async function run(command: string[]): Promise<void> {
  announce(command);
  const rootfs = ensureRootfs(); // built from busybox on first use: shared/image/rootfs.ts
  // Who root in the container is on the host, never root: you (rootless: the one ID
  // you may map), or, started by root, a range of 65536 IDs no other process has
  // (shared/userns/id-ranges.ts). The container's first process starts as its first ID.
  const { uid, gid, count } = containerIdsOnHost();
  // process.execPath is the program running now: node, which runs this file again.
  const container = await startInUserNamespace(
    process.execPath,
    [import.meta.filename, 'child', `--root=${rootfs}`, '--', ...command],
    CLONE_NEWUSER | CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET,
    { uid, gid },
  );
  // Its ID maps, "ID-inside ID-outside count", each written once: 0 inside is `uid`
  // outside, 1 is uid+1... Before the gid map, setgroups must be denied: else root
  // inside could drop a group that a file's permissions deny access to, and so gain it.
  writeFile(`/proc/${container.pid}/uid_map`, `0 ${uid} ${count}\n`);
  writeFile(`/proc/${container.pid}/setgroups`, 'deny');
  writeFile(`/proc/${container.pid}/gid_map`, `0 ${gid} ${count}\n`);
  container.start(); // now it execs node, with every capability in its namespaces
  exitWith(container);
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
