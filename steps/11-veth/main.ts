// Step 11: a network of its own: a veth pair to the host.
//   node steps/11-veth/main.ts run [--image busybox] [--keep] [--memory 64m] ... <cmd> <args>
// Until now the container's network namespace held only `lo`: nothing in it could
// reach anything outside. Now a veth pair (a virtual cable) joins it to the host:
// `cfs-<id>` on the host, `eth0` inside, an address on each side and a default route
// through the host's end (shared/network.ts). It goes when the container does.
import { spawn } from 'node:child_process';
import { Cgroup, formatSize, LIMIT_FLAGS, type Limits } from '../../shared/cgroups.ts';
import { IMAGE_FLAGS, imageDir, Layer, type ImageOptions } from '../../shared/images.ts';
import { announce, main } from '../../shared/cli.ts';
import { exitWith } from '../../shared/command.ts';
import { CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUSER, CLONE_NEWUTS, mount, sethostname } from '../../shared/libc.ts';
import { makeMountsPrivate, pivotInto } from '../../shared/mounts.ts';
import { bringUp, connectToHost } from '../../shared/network.ts';
import { spawnInUserNamespace } from '../../shared/userns.ts';

main({ run, child }, { ...LIMIT_FLAGS, ...IMAGE_FLAGS });

function run(command: string[], { image, keep, ...limits }: ImageOptions & Limits): void {
  announce(command);
  const lower = imageDir(image);
  // The container's name: 12 random hex digits, as docker's (node:crypto costs 6 ms to load).
  const id = Math.floor(Math.random() * 2 ** 48).toString(16).padStart(12, '0');
  // Its writable layer over the image (nothing is copied), deleted when the runtime
  // ends, unless --keep.
  const layer = new Layer(id).create(lower);
  process.on('exit', () => (keep ? layer.keep() : layer.remove()));
  // Its own cgroup, with the limits written in (the same id names it).
  const cgroup = Cgroup.create(id, limits);
  // However the runtime ends (the command's exit, a signal passed on, an error), the
  // cgroup goes with it: process.exit() runs this just before the process ends.
  process.on('exit', (status) => {
    // 137 = 128 + SIGKILL, which the kernel's OOM killer sends as `kill -9` does: the
    // cgroup's count of OOM kills tells the two apart.
    if (status === 137 && cgroup.oomKills() > 0) {
      process.stderr.write(`container killed: out of memory (limit ${formatSize(limits.memory)})\n`);
    }
    cgroup.remove();
  });
  // process.execPath is the program running now: node, which runs this file again.
  // The container's first process starts in its namespaces, waits, and only goes on
  // once we, root on the host, have moved it into the cgroup (it could not: root in
  // its user namespace is nobody here). All it starts from then on is born in it.
  // And we mount image + layer as its root filesystem, in its mount namespace, and
  // connect its network namespace to ours with a veth pair.
  const child = spawnInUserNamespace(process.execPath, [import.meta.filename, 'child', id, ...command], CLONE_NEWUSER | CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET, (pid) => {
    cgroup.add(pid);
    layer.mountFor(pid);
    connectToHost(id, pid);
  });
  exitWith(child);
}

function child([id, ...command]: string[]): void {
  announce(command);
  sethostname('container-demo');
  bringUp('lo'); // a new network namespace has only `lo`, and it is down
  // Every module this process needs is loaded by now: after pivot_root, the project's
  // files are gone from this mount namespace.
  makeMountsPrivate();
  const rootfs = new Layer(id!).root; // mounted for us by the runtime
  // In a user namespace the kernel mounts a new proc only where a complete one is
  // already in sight (it would reveal nothing new): so before pivot_root hides the host's.
  mount('proc', `${rootfs}/proc`, 'proc', 0);
  pivotInto(rootfs);
  const [file, ...args] = command;
  exitWith(spawn(file!, args, { stdio: 'inherit' }));
}
