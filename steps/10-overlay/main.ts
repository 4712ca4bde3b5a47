// Step 10: images and a writable layer: the container's `/` is an overlay of an image's
// layers, only read, under a layer of its own that takes every write and goes at exit.
// `--image` picks one (busybox, imported, or pulled: `npm run image -- pull alpine`).
import { existsSync } from 'node:fs';
import { flushCompileCache } from 'node:module';
import { type Cgroup, createCgroup, type Limits } from '../../shared/cgroup/lifecycle.ts';
import { imageCommand, processSpec } from '../../shared/image/config.ts';
import { type Image, openImage } from '../../shared/image/store.ts';
import { createLayer, type Layer } from '../../shared/image/writable-layer.ts';
import { inNamespaceOf } from '../../shared/kernel/enter.ts';
import { inDirectory, writeFile } from '../../shared/kernel/files.ts';
import { InterfaceRequest } from '../../shared/kernel/ifreq.ts';
import * as libc from '../../shared/kernel/libc.ts';
import { announce, type ChildOptions, main } from '../../shared/runtime/cli.ts';
import { exitWith, startCommand } from '../../shared/runtime/command.ts';
import { newContainerId } from '../../shared/runtime/container-id.ts';
import { UsageError } from '../../shared/runtime/errors.ts';
import { IMAGE_FLAGS, type ImageOptions, LIMIT_FLAGS } from '../../shared/runtime/flags.ts';
import { superviseAsInit } from '../../shared/runtime/init.ts';
import { openContainerTerminal } from '../../shared/runtime/pty.ts';
import { containerIdsOnHost, type HostIds } from '../../shared/userns/id-ranges.ts';
import { startInUserNamespace } from '../../shared/userns/start.ts';

const HOSTNAME = 'container-demo';

main({ run, child }, { ...LIMIT_FLAGS, ...IMAGE_FLAGS });

async function run(given: string[], { image: name, keep, ...options }: ImageOptions & Limits): Promise<void> {
  // The image (shared/image/store.ts): its layers, top first, and a pulled image's config:
  // the command to run when none is given (Entrypoint + Cmd), environment, directory, user.
  const image = openImage(name); // busybox: built on first use
  const command = imageCommand(image.config, given);
  if (command.length === 0) throw new UsageError(''); // neither given nor in the image
  announce(command);
  const id = newContainerId(); // 12 hex digits, as docker's
  // Its cgroup, <tree>/container-from-scratch/<id>: a directory per tree on v1, one on v2;
  // removed when the runtime ends (shared/cgroup/lifecycle.ts). The limits are files in it.
  const cgroup = createCgroup(id, options);
  limitResources(cgroup, options);
  // Who root in the container is on the host, never root: you (rootless), or, started by
  // root, a range of 65536 IDs no other process has (shared/userns/id-ranges.ts).
  const ids = containerIdsOnHost();
  // Its writable layer, upper/ and work/, with rootfs/ to mount them on: only root and the
  // container's root group pass into it; gone at exit unless --keep (shared/image/).
  const layer = createLayer(id, image, keep, ids.gid);
  const spec = processSpec(image, HOSTNAME); // the command's environment, directory, user
  // A terminal of its own, where ours is one: sharing ours would let it type into our
  // shell (TIOCSTI). Node cannot unshare a user namespace: a helper does (the page).
  const terminal = openContainerTerminal(); // shared/runtime/pty.ts
  const container = await startInUserNamespace(
    process.execPath, // node, which runs this file again, with a pulled image's Env (never ours)
    [import.meta.filename, 'child', `--root=${layer.rootfs}`, `--process=${JSON.stringify(spec)}`, '--', ...command],
    libc.CLONE_NEWUSER | libc.CLONE_NEWUTS | libc.CLONE_NEWPID | libc.CLONE_NEWNS | libc.CLONE_NEWIPC | libc.CLONE_NEWNET,
    { uid: ids.uid, gid: ids.gid, terminal, env: spec.env },
  );
  writeIdMaps(container.pid, ids);
  // Into the cgroup with it, while it waits: root in its user namespace is no one here,
  // and could not move itself. All it starts from now on is born in the cgroup.
  for (const dir of cgroup.dirs) writeFile(`${dir}/cgroup.procs`, `${container.pid}`);
  mountOverlay(image, layer, container.pid);
  container.start(); // now it execs node, with every capability in its namespaces
  exitWith(container);
}

function child(command: string[], { root, process: spec }: ChildOptions): void {
  announce(command);
  libc.sethostname(HOSTNAME);
  bringUpLoopback();
  pivotInto(root);
  const started = startCommand(command, spec); // as the image's config says: shared/runtime/command.ts
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

/** Step 08: who the container's IDs are on the host, "ID-inside ID-outside count". */
function writeIdMaps(pid: number, { uid, gid, count }: HostIds): void {
  writeFile(`/proc/${pid}/uid_map`, `0 ${uid} ${count}\n`);
  // Before the gid map, setgroups is denied: else root inside could drop a group that a
  // file's permissions deny access to, and so gain that access.
  writeFile(`/proc/${pid}/setgroups`, 'deny');
  writeFile(`/proc/${pid}/gid_map`, `0 ${gid} ${count}\n`);
}

/** Step 09: the limits, files of the container's cgroup (v2's names, or v1's). */
function limitResources(cgroup: Cgroup, { memory, pids, cpus }: Limits): void {
  const quota = Math.round(cpus * 100_000); // CPU: microseconds per period of 100 ms, for all together
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
}

/** Step 10: the image's layers (only read) under the writable layer, as one tree. */
function mountOverlay(image: Image, layer: Layer, pid: number): void {
  // Made by us, root on the host (a copy-up keeps each file's owner), named from the
  // layer store (an fsconfig value holds 255 bytes), attached in the container's mount
  // namespace: the page says why each.
  const options = { source: 'overlay', lowerdir: image.layers.join(':'), upperdir: layer.upper, workdir: layer.work };
  const overlay = inDirectory(image.store, () => libc.detachedMount('overlay', options));
  inNamespaceOf(pid, 'mnt', () => libc.attachMount(overlay, layer.rootfs));
  libc.close(overlay);
}
