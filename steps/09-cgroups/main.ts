// Step 09: a cgroup per container, with limits on memory, processes and CPU time.
//   node steps/09-cgroups/main.ts run [--memory 64m] [--pids 32] [--cpus 0.5] <cmd> <args>
// Namespaces only hide things: a container could still take all the memory, or fork
// until the machine stops. Now the kernel counts what the container uses and caps it,
// through the files of its cgroup. Machines have cgroup v2 (one tree, the VM's) or the
// older v1 (a tree per controller), and the files are named differently: both are
// here; which one this machine has is found in shared/cgroup/layout.ts. Making a
// cgroup needs root again: `sudo npm run step:9 -- sh`. Node, the container's PID 1,
// counts too: ~7 "processes" (its threads) and ~30 MB.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { flushCompileCache } from 'node:module';
import { createCgroup, type Limits } from '../../shared/cgroup/lifecycle.ts';
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
import { LIMIT_FLAGS } from '../../shared/runtime/flags.ts';
import { superviseAsInit } from '../../shared/runtime/init.ts';
import { containerIdsOnHost } from '../../shared/userns/id-ranges.ts';
import { startInUserNamespace } from '../../shared/userns/start.ts';

main({ run, child }, LIMIT_FLAGS);

async function run(command: string[], { memory, pids, cpus }: Limits): Promise<void> {
  announce(command);
  const rootfs = ensureRootfs(); // built from busybox on first use: shared/image/rootfs.ts
  // The container's name: 12 random hex digits, as docker's (node:crypto costs 6 ms to load).
  // biome-ignore format: one line reads best
  const id = Math.floor(Math.random() * 2 ** 48).toString(16).padStart(12, '0');
  // Its cgroup, <tree>/container-from-scratch/<id>: a directory per tree on v1, one on
  // v2; removed when the runtime ends (shared/cgroup/lifecycle.ts). The limits are
  // files in it. CPU: a quota of microseconds per period of 100 ms, for all together.
  const cgroup = createCgroup(id, { memory, pids, cpus });
  const quota = Math.round(cpus * 100_000);
  if (cgroup.version === 2) {
    const [dir] = cgroup.dirs; // one directory for every controller
    if (memory) writeFile(`${dir}/memory.max`, `${memory}`);
    // and no swapping past it, where the kernel counts swap (so the file exists)
    if (memory && existsSync(`${dir}/memory.swap.max`)) writeFile(`${dir}/memory.swap.max`, '0');
    if (pids) writeFile(`${dir}/pids.max`, `${pids}`);
    if (cpus) writeFile(`${dir}/cpu.max`, `${quota} 100000`);
  } else {
    if (memory) writeFile(`${cgroup.dir('memory')}/memory.limit_in_bytes`, `${memory}`);
    // memory + swap: not below the memory limit, so second
    const memsw = memory ? `${cgroup.dir('memory')}/memory.memsw.limit_in_bytes` : '';
    if (memsw && existsSync(memsw)) writeFile(memsw, `${memory}`);
    if (pids) writeFile(`${cgroup.dir('pids')}/pids.max`, `${pids}`);
    if (cpus) writeFile(`${cgroup.dir('cpu')}/cpu.cfs_period_us`, '100000');
    if (cpus) writeFile(`${cgroup.dir('cpu')}/cpu.cfs_quota_us`, `${quota}`);
  }
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
  // Into the cgroup with it, while it waits: it could not move itself (root in its user
  // namespace is no one here), and all it starts from now on is born in the cgroup.
  for (const dir of cgroup.dirs) writeFile(`${dir}/cgroup.procs`, `${container.pid}`);
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
