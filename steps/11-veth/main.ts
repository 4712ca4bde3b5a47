// Step 11: a network of its own: a veth pair to the host.
//   node steps/11-veth/main.ts run [--image busybox] [--keep] [--memory 64m] ... [<cmd> <args>]
// Until now the container's network namespace held only `lo`: nothing in it could
// reach anything outside. Now a veth pair (a virtual cable: what one end sends, the
// other receives) joins it to the host: `cfs-<id>` on the host, `eth0` inside, an
// address on each side and a default route through the host's end. Nothing is left
// to remove: when the container's network namespace dies (even after SIGKILL), the
// kernel destroys `eth0`, and a veth end never outlives its peer.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { flushCompileCache } from 'node:module';
import { createCgroup, type Limits } from '../../shared/cgroup/lifecycle.ts';
import { imageCommand, processSpec } from '../../shared/image/config.ts';
import { openImage } from '../../shared/image/store.ts';
import { createLayer } from '../../shared/image/writable-layer.ts';
import { inNamespaceOf } from '../../shared/kernel/enter.ts';
import { inDirectory, writeFile } from '../../shared/kernel/files.ts';
import { InterfaceRequest } from '../../shared/kernel/ifreq.ts';
import {
  AF_INET,
  attachMount,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
  close,
  detachedMount,
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
import { ip } from '../../shared/network/ip.ts';
import { bringUp, settleSubnet, waitUntilUp } from '../../shared/network/links.ts';
import { subnetOf } from '../../shared/network/subnets.ts';
import { announce, type ChildOptions, main } from '../../shared/runtime/cli.ts';
import { exitWith } from '../../shared/runtime/command.ts';
import { UsageError } from '../../shared/runtime/errors.ts';
import { IMAGE_FLAGS, type ImageOptions, LIMIT_FLAGS } from '../../shared/runtime/flags.ts';
import { superviseAsInit } from '../../shared/runtime/init.ts';
import { containerIdsOnHost } from '../../shared/userns/id-ranges.ts';
import { startInUserNamespace } from '../../shared/userns/start.ts';

const HOSTNAME = 'container-demo';

main({ run, child }, { ...LIMIT_FLAGS, ...IMAGE_FLAGS });

async function run(given: string[], { image: name, keep, memory, pids, cpus }: ImageOptions & Limits): Promise<void> {
  // The image: its layers, directories only read, top first (busybox, or an imported
  // image, is one), and a pulled image's config: the command to run when none is
  // given (Entrypoint + Cmd), its environment, directory and user (shared/image/store.ts).
  const image = openImage(name); // busybox: built on first use
  const command = imageCommand(image.config, given);
  if (command.length === 0) throw new UsageError(''); // neither given nor in the image
  announce(command);
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
  // Its writable layer: empty directories upper/ and work/, and rootfs/ to mount the
  // two on; deleted when the runtime ends, unless --keep (shared/image/writable-layer.ts). Only root
  // and the container's root group may pass into it: no host user reaches upper/.
  const layer = createLayer(id, image, keep, gid);
  // What the command runs with: its environment, directory and user (the image's config).
  const spec = processSpec(image, HOSTNAME);
  // process.execPath is the program running now: node, which runs this file again. It
  // starts with the command's environment: a pulled image's own, never ours, then.
  const container = await startInUserNamespace(
    process.execPath,
    [import.meta.filename, 'child', `--root=${layer.rootfs}`, `--process=${JSON.stringify(spec)}`, '--', ...command],
    CLONE_NEWUSER | CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET,
    { uid, gid },
    spec.env,
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
  // Its root filesystem: the image (lowerdir, only read) under the writable layer
  // (upperdir, work: overlayfs's scratch space), as one tree. We mount it, root on the
  // host, not the container's root: overlayfs copies a file up into upperdir with the
  // mounter's credentials, giving the copy its owner back, which root of a user
  // namespace cannot do (EOVERFLOW). It is made here (fsopen, fsconfig, fsmount) and
  // only attached in the container's mount namespace: overlayfs refuses a lowerdir with
  // "locked" mounts below it, and the kernel locks each mount it copies into a less
  // privileged namespace, such as /containerfs/proc, which step 05 leaves behind.
  // lowerdir is the image's layers, "top:…:bottom": overlayfs shows the top one's
  // files over those below, and a whiteout (a 0:0 character device) in a layer hides a
  // file of the layers below it. An fsconfig(2) value holds at most 255 bytes: the
  // layers are named from their store, our current directory while overlayfs looks
  // them up (shared/image/layers.ts).
  const options = { source: 'overlay', lowerdir: image.layers.join(':'), upperdir: layer.upper, workdir: layer.work };
  const overlay = inDirectory(image.store, () => detachedMount('overlay', options));
  inNamespaceOf(container.pid, 'mnt', () => attachMount(overlay, layer.rootfs));
  close(overlay);
  // The veth pair, laid with iproute2's `ip` as a learner would type it: `netns <pid>`
  // puts its second end in the container's network namespace. A /30 of 10.200.0.0/16
  // per container, from its id: `.1` the host's end, `.2` eth0. The same `ip` then lists
  // the host's addresses: should another interface have that /30 too, ours moves.
  const hostEnd = `cfs-${id.slice(0, 8)}`; // an interface's name has at most 15 characters
  let subnet = subnetOf(id);
  const addresses = ip(
    [`link add ${hostEnd} type veth peer name eth0 netns ${container.pid}`, `addr add ${subnet.host}/30 dev ${hostEnd}`, 'addr show'],
    ['-o', '-4'],
  );
  subnet = settleSubnet(hostEnd, subnet, addresses);
  bringUp(hostEnd); // `ip link set <it> up`, as step 07's two ioctls: shared/network/links.ts
  // Its end, set up from its network namespace (`ip` spawned from there is born there).
  inNamespaceOf(container.pid, 'net', () => {
    ip([`addr add ${subnet.container}/30 dev eth0`, 'link set eth0 up', `route add default via ${subnet.host}`]);
  });
  waitUntilUp(hostEnd);
  container.start(); // now it execs node, with every capability in its namespaces
  exitWith(container);
}

function child(command: string[], { root, process: spec }: ChildOptions): void {
  announce(command);
  sethostname(HOSTNAME);
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
  // As the image's config says: its environment (else ours), working directory (made
  // if missing, as docker does) and user (root's, 0, if it names none).
  const { env, cwd, uid, gid } = spec!;
  mkdirSync(cwd, { recursive: true });
  const [file, ...args] = command;
  const started = spawn(file!, args, { stdio: 'inherit', env, cwd, uid, gid });
  superviseAsInit(started); // the duties of a container's first process: shared/runtime/init.ts
  exitWith(started);
}
