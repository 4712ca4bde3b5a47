// Step 14: least privilege. Namespaces hide the host; now root in the container loses the
// power it does not need: 14 capabilities left, no new privileges, a seccomp filter,
// /proc's secrets masked, a /dev of its own, and an environment of its own.
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { flushCompileCache } from 'node:module';
import { type Cgroup, createCgroup, type Limits } from '../../shared/cgroup/lifecycle.ts';
import { imageCommand, processSpec } from '../../shared/image/config.ts';
import { type Image, openImage } from '../../shared/image/store.ts';
import { createLayer, type Layer } from '../../shared/image/writable-layer.ts';
import { inNamespaceOf } from '../../shared/kernel/enter.ts';
import { inDirectory, readFile, writeFile } from '../../shared/kernel/files.ts';
import { InterfaceRequest } from '../../shared/kernel/ifreq.ts';
import * as libc from '../../shared/kernel/libc.ts';
import { BRIDGE, freeNetwork } from '../../shared/network/bridge.ts';
import { wasRouter } from '../../shared/network/forwarding.ts';
import { ip } from '../../shared/network/ip.ts';
import { existingNetwork, type Lease, leaseAddress, withNetworkLock } from '../../shared/network/leases.ts';
import { bringUp, waitUntilUp } from '../../shared/network/links.ts';
import { nft, nftFile, TABLE } from '../../shared/network/nft.ts';
import { claimPorts, type PortMapping, removeRulesAtExit } from '../../shared/network/ports.ts';
import { writeResolvConf } from '../../shared/network/resolv.ts';
import { announce, type ChildOptions, main } from '../../shared/runtime/cli.ts';
import { exitWith, startCommand } from '../../shared/runtime/command.ts';
import { newContainerId } from '../../shared/runtime/container-id.ts';
import { UsageError } from '../../shared/runtime/errors.ts';
import { IMAGE_FLAGS, type ImageOptions, LIMIT_FLAGS, NETWORK_FLAGS, type NetworkOptions } from '../../shared/runtime/flags.ts';
import { superviseAsInit } from '../../shared/runtime/init.ts';
import { openContainerTerminal } from '../../shared/runtime/pty.ts';
import { SECURITY_FLAGS, type Security, type SecurityOptions } from '../../shared/security/options.ts';
import { DEV_LINKS, DEVICES, MASKED_DIRECTORIES, MASKED_FILES, READ_ONLY_PATHS } from '../../shared/security/paths.ts';
import { buildFilter, installFilter, NO_IO_URING } from '../../shared/security/seccomp.ts';
import { containerIdsOnHost, type HostIds } from '../../shared/userns/id-ranges.ts';
import { startInUserNamespace } from '../../shared/userns/start.ts';

const HOSTNAME = 'container-demo';

main({ run, child }, { ...SECURITY_FLAGS, ...NETWORK_FLAGS, ...LIMIT_FLAGS, ...IMAGE_FLAGS });

async function run(given: string[], { publish, image: name, keep, ...options }: SecurityOptions & NetworkOptions & ImageOptions & Limits) {
  // The image (shared/image/store.ts): its layers, top first, and a pulled image's config:
  // the command to run when none is given (Entrypoint + Cmd), environment, directory, user.
  const image = openImage(name); // busybox: built on first use
  const command = imageCommand(image.config, given);
  if (command.length === 0) throw new UsageError(''); // neither given nor in the image
  announce(command);
  const id = newContainerId(); // 12 hex digits, as docker's
  // The host ports it publishes, bound and held by us before anything is made: one in use
  // stops it here, and none can take them later (shared/network/ports.ts).
  const ports = claimPorts(publish); // `-p 80` alone: a free one, which it says
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
  // Its own environment (the image's, -e, --env-file: never ours), and what its root keeps:
  // docker's defaults, less --cap-drop, plus --cap-add, --security-opt (shared/security/).
  const spec = processSpec(image, HOSTNAME, options);
  // A terminal of its own, where ours is one: sharing ours would let it type into our
  // shell (TIOCSTI). Node cannot unshare a user namespace: a helper does (the page).
  const terminal = openContainerTerminal(); // shared/runtime/pty.ts
  // What we start gets no io_uring: its Node (PID 1) would make a ring that the filter then breaks.
  if (spec.security!.seccomp) installFilter(buildFilter(NO_IO_URING), { allThreads: false });
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
  writeResolvConf(layer.upper, image); // the host's nameservers, less its loopback's (shared/network/)
  mountOverlay(image, layer, container.pid);
  // Under the network lock: no two runtimes make the bridge, nor take one address.
  const lease = withNetworkLock(joinBridge);
  writeFile('/proc/sys/net/ipv4/ip_forward', '1'); // the host forwards packets: a router
  plugIntoBridge(id, container.pid, lease);
  if (ports.length > 0) publishPorts(ports, lease, id);
  container.start(); // now it execs node, with every capability in its namespaces
  exitWith(container);
}

function child(command: string[], { root, process: spec }: ChildOptions): void {
  announce(command);
  libc.sethostname(HOSTNAME);
  bringUpLoopback();
  // As docker: any user may serve on port 80 (ports of its own network: nothing of the host's)
  writeFile('/proc/sys/net/ipv4/ip_unprivileged_port_start', '0');
  minimalDev(`${root}/dev`);
  pivotInto(root);
  maskProc();
  dropPrivileges(spec!.security!);
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

/** Step 12: the bridge and its rules (./bridge.nft), made once; the container's address leased. */
function joinBridge(): Lease {
  const existing = existingNetwork(); // the bridge's, if it is there (shared/network/leases.ts)
  if (existing) return leaseAddress(existing);
  const network = freeNetwork(ip(['addr show'], ['-o', '-4'])); // a /16 no address of the host's overlaps
  nftFile(`${import.meta.dirname}/bridge.nft`, { BRIDGE, NETWORK: network.cidr }); // the rules first
  // A host that was no router (ip_forward 0) forwards only the bridge's (docker: FORWARD DROP).
  if (!wasRouter()) nft(`add rule ip ${TABLE} forward iifname != "${BRIDGE}" drop`);
  ip([`link add ${BRIDGE} type bridge`, `addr add ${network.gateway}/16 dev ${BRIDGE}`, `link set ${BRIDGE} up`]);
  return leaseAddress(network);
}

/** Step 12: step 11's veth pair, its host end plugged into the bridge, which has the address. */
function plugIntoBridge(id: string, pid: number, lease: Lease): void {
  const hostEnd = `cfs-${id.slice(0, 8)}`; // an interface's name has at most 15 characters
  // `netns <pid>`: the second end is born in the container's network namespace.
  ip([`link add ${hostEnd} type veth peer name eth0 netns ${pid}`, `link set ${hostEnd} master ${BRIDGE}`]);
  bringUp(hostEnd); // `ip link set <it> up`, as step 07's two ioctls: shared/network/links.ts
  // Its end, set up from its network namespace (`ip` spawned from there is born there).
  inNamespaceOf(pid, 'net', () => {
    ip([`addr add ${lease.address}/16 dev eth0`, 'link set eth0 up', `route add default via ${lease.gateway}`]);
  });
  waitUntilUp(hostEnd);
}

/** Step 13: each published port, a DNAT rule to the container, in the chain of ./ports.nft. */
function publishPorts(ports: PortMapping[], lease: Lease, id: string): void {
  withNetworkLock(() => {
    // Once per bridge: its chains, and the host's 127.0.0.1 let out on the bridge.
    const localnet = `/proc/sys/net/ipv4/conf/${BRIDGE}/route_localnet`;
    if (readFile(localnet).trim() === '1') return;
    nftFile(`${import.meta.dirname}/ports.nft`, { BRIDGE });
    writeFile(localnet, '1');
  });
  lease.markPublished(); // should we die with the rules in place, npm run clean removes them
  const rules = ports.map(
    ({ hostIp, hostPort, containerPort, protocol }) =>
      `insert rule ip ${TABLE} published ${hostIp ? `ip daddr ${hostIp} ` : ''}${protocol} dport ${hostPort} dnat to ${lease.address}:${containerPort} comment "${id}"`,
  );
  removeRulesAtExit(nft(rules.join('\n'), ['--echo', '--handle']), lease); // as the runtime ends
}

/** Step 14: a /dev of the container's own: a few harmless devices, its own ptys, shm. */
function minimalDev(dev: string): void {
  libc.mount('tmpfs', dev, 'tmpfs', libc.MS_NOSUID, 'mode=755,size=64k');
  // Root of a user namespace may not mknod (a device is a door to the host's hardware):
  // the host's own, each bound on an empty file.
  for (const name of DEVICES) writeFileSync(`${dev}/${name}`, '');
  for (const name of DEVICES) libc.mount(`/dev/${name}`, `${dev}/${name}`, null, libc.MS_BIND);
  for (const dir of ['pts', 'shm']) mkdirSync(`${dev}/${dir}`);
  // Its own pseudo-terminals (newinstance: not the host's), and its own shared memory.
  libc.mount('devpts', `${dev}/pts`, 'devpts', libc.MS_NOSUID | libc.MS_NOEXEC, 'newinstance,ptmxmode=0666,mode=0620');
  libc.mount('shm', `${dev}/shm`, 'tmpfs', libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC, 'mode=1777');
  for (const [link, target] of Object.entries(DEV_LINKS)) symlinkSync(target, `${dev}/${link}`);
}

/** Step 14: what the host's kernel tells of itself in /proc and /sys, hidden or made read-only. */
function maskProc(): void {
  // A file under /dev/null, a directory under an empty read-only tmpfs (not all exist on every kernel).
  for (const path of MASKED_FILES.filter(existsSync)) libc.mount('/dev/null', path, null, libc.MS_BIND);
  for (const path of MASKED_DIRECTORIES.filter(existsSync)) libc.mount('tmpfs', path, 'tmpfs', libc.MS_RDONLY, null);
  // A bind mount takes no flags at first: it is made read-only by a second call, a remount.
  // nosuid, nodev and noexec too, as docker's read-only paths have them.
  for (const path of READ_ONLY_PATHS.filter(existsSync)) libc.mount(path, path, null, libc.MS_BIND | libc.MS_REC);
  const readOnly = libc.MS_REMOUNT | libc.MS_BIND | libc.MS_RDONLY | libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC;
  for (const path of READ_ONLY_PATHS.filter(existsSync)) libc.mount(null, path, null, readOnly);
}

/** Step 14: what root in the container may still do: some capabilities, no new privileges, a filter. */
function dropPrivileges({ drop, keep, noNewPrivileges, filters }: Security): void {
  // The bounding set: what no program it runs can ever gain again, even setuid root.
  for (const cap of drop) libc.prctl(libc.PR_CAPBSET_DROP, cap);
  if (noNewPrivileges) libc.prctl(libc.PR_SET_NO_NEW_PRIVS, 1); // no setuid program gains anything
  // The filter (its BPF program, built by the runtime), on every thread of this Node (TSYNC),
  // while we may still install it: with no_new_privs, or with CAP_SYS_ADMIN, which goes next.
  for (const program of filters) libc.seccomp(libc.SECCOMP_SET_MODE_FILTER, libc.SECCOMP_FILTER_FLAG_TSYNC, Buffer.from(program, 'base64'));
  // This thread's effective and permitted sets; inheritable none, which empties the ambient set.
  libc.capset(BigInt(keep));
}
