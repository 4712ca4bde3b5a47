// Step 12: a network like docker's: a bridge, NAT to the world, DNS, published ports.
//   node steps/12-bridge/main.ts run [-p 8080:80] [--image busybox] [--keep] [--memory 64m] ... [<cmd> <args>]
// Step 11's veth pair reached the host and no further. Now the host's end is plugged
// into a bridge, `cfs0` (a virtual switch, docker's `docker0`), made on first use and
// kept: the containers on it share one network, 10.201.0.0/16, and reach each other.
// The bridge's address is their gateway; the host forwards their packets and hides
// their addresses behind its own (masquerade, with nftables), so they reach whatever
// the host reaches; `/etc/resolv.conf` names a nameserver; `-p 8080:80` sends what
// comes to the host's port 8080 to the container's port 80 (DNAT).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
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
import { BRIDGE, freeNetwork, networkOf } from '../../shared/network/bridge.ts';
import { wasRouter } from '../../shared/network/forwarding.ts';
import { ip } from '../../shared/network/ip.ts';
import { leaseAddress } from '../../shared/network/leases.ts';
import { bringUp, interfaceAddress, waitUntilUp } from '../../shared/network/links.ts';
import { withNetworkLock } from '../../shared/network/lock.ts';
import { nft, TABLE } from '../../shared/network/nft.ts';
import { claimPorts, describePort, removeRulesAtExit } from '../../shared/network/ports.ts';
import { containerResolvConf, likeImageEtc, upperEtc } from '../../shared/network/resolv.ts';
import { announce, type ChildOptions, main } from '../../shared/runtime/cli.ts';
import { exitWith } from '../../shared/runtime/command.ts';
import { UsageError } from '../../shared/runtime/errors.ts';
import { IMAGE_FLAGS, type ImageOptions, LIMIT_FLAGS, NETWORK_FLAGS, type NetworkOptions } from '../../shared/runtime/flags.ts';
import { superviseAsInit } from '../../shared/runtime/init.ts';
import { containerIdsOnHost } from '../../shared/userns/id-ranges.ts';
import { startInUserNamespace } from '../../shared/userns/start.ts';

const HOSTNAME = 'container-demo';

main({ run, child }, { ...NETWORK_FLAGS, ...LIMIT_FLAGS, ...IMAGE_FLAGS });

async function run(
  given: string[],
  { publish, image: name, keep, memory, pids, cpus }: NetworkOptions & ImageOptions & Limits,
): Promise<void> {
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
  // The host's ports it publishes, bound and held by us before anything is made: a port
  // that another container publishes, or that a program of the host's uses, stops it
  // here, and none can take it later (shared/network/ports.ts). `-p 80` alone takes a
  // free one, which we say.
  const ports = await claimPorts(publish);
  for (const port of ports.filter((_, n) => publish[n]!.hostPort === 0)) process.stderr.write(`Published ${describePort(port)}\n`);
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
  // Its /etc/resolv.conf, in its writable layer before the overlay is made: the host's
  // nameservers, less those on the host's loopback (shared/network/resolv.ts).
  const resolvConf = containerResolvConf(readFileSync('/etc/resolv.conf', 'utf8'));
  const etc = upperEtc(layer.upper); // root's until the file is in it
  writeFile(`${etc}/resolv.conf`, resolvConf);
  likeImageEtc(etc, image); // then the image's /etc's mode and owner
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
  // The bridge, on first use: a /16 no address of the host's overlaps (shared/bridge-
  // network.ts), its `.0.1` the bridge's own address, the containers' gateway. Then,
  // once, the nftables table of our own (the host's tables stay as they are):
  // - masquerade: what a container sends out of another interface leaves with the
  //   host's address as its source, so the replies find their way back (the world has
  //   no route to 10.201.0.0/16); conntrack undoes it on each reply;
  // - published ports: what comes to one of the host's own addresses (`fib daddr type
  //   local`) goes through the chain `published`, where each container's `-p` adds a
  //   DNAT rule. From outside it comes in through `prerouting`; from the host itself
  //   (its localhost too) through `output`.
  // - the host's own 127.0.0.1 rewritten to a container's address would be dropped as
  //   it leaves on `cfs0` ("martian"), unless the bridge's route_localnet lets it; then
  //   it is masqueraded too, else the container would answer its own 127.0.0.1. So is
  //   a container's packet to another's published port, which the host sends back into
  //   the bridge (a "hairpin"): else the answer would go straight to the first
  //   container, around the host and its NAT, and be refused.
  // - forward: into the bridge only replies and published ports, never a neighbour's
  //   packet to a container's other ports; and, where the host was no router before
  //   us, nothing that does not come from the bridge (docker: FORWARD policy DROP).
  // - route_localnet would also let a container send to the host's 127.0.0.1, where
  //   services trust their callers: 127.0.0.0/8 comes in on `lo` only (kube-proxy's rule).
  // Under a lock, the lease of the container's address too: no two runtimes make the
  // bridge, nor take one address (shared/network/lock.ts, shared/network/leases.ts).
  const lease = withNetworkLock(() => {
    const gateway = interfaceAddress(BRIDGE); // `ip -4 addr show cfs0`, in one ioctl(2)
    if (gateway !== undefined) return leaseAddress(networkOf(gateway));
    const network = freeNetwork(ip(['addr show'], ['-o', '-4']));
    const router = wasRouter(); // ip_forward 1 already? (else clean turns it back off)
    // The table first (a rule names an interface by its name, which may not exist yet):
    // should this fail, there is no bridge without its rules. `add` then `delete` first:
    // a table left by a bridge that failed is replaced, not doubled (one transaction).
    nft(`add table ip ${TABLE}
delete table ip ${TABLE}
table ip ${TABLE} {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr ${network.cidr} oifname != "${BRIDGE}" masquerade
    ip saddr 127.0.0.0/8 oifname "${BRIDGE}" masquerade
    iifname "${BRIDGE}" oifname "${BRIDGE}" ct status dnat masquerade
  }
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    fib daddr type local jump published
  }
  chain output {
    type nat hook output priority -100; policy accept;
    fib daddr type local jump published
  }
  chain published {
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    oifname "${BRIDGE}" ct state established,related accept
    oifname "${BRIDGE}" ct status dnat accept
    oifname "${BRIDGE}" iifname != "${BRIDGE}" drop
    ${router ? '' : `iifname != "${BRIDGE}" drop`}
  }
  chain localhost {
    type filter hook prerouting priority raw; policy accept;
    iifname != "lo" ip daddr 127.0.0.0/8 drop
  }
}`);
    ip([`link add ${BRIDGE} type bridge`, `addr add ${network.gateway}/16 dev ${BRIDGE}`, `link set ${BRIDGE} up`]);
    writeFile(`/proc/sys/net/ipv4/conf/${BRIDGE}/route_localnet`, '1');
    return leaseAddress(network);
  });
  // The host forwards packets from one interface to another: a router (off by default).
  writeFile('/proc/sys/net/ipv4/ip_forward', '1');
  // The veth pair, laid with iproute2's `ip` as in step 11, its host end plugged into the
  // bridge (`master`). That end has no address now: the bridge has, for all.
  const hostEnd = `cfs-${id.slice(0, 8)}`; // an interface's name has at most 15 characters
  ip([`link add ${hostEnd} type veth peer name eth0 netns ${container.pid}`, `link set ${hostEnd} master ${BRIDGE}`]);
  bringUp(hostEnd); // `ip link set <it> up`, as step 07's two ioctls: shared/network/links.ts
  // Its end, set up from its network namespace (`ip` spawned from there is born there).
  inNamespaceOf(container.pid, 'net', () => {
    ip([`addr add ${lease.address}/16 dev eth0`, 'link set eth0 up', `route add default via ${lease.gateway}`]);
  });
  // Its published ports: a DNAT rule each, first in the chain (`insert`), named by the
  // container's id; removed as the runtime ends (shared/network/ports.ts).
  if (ports.length > 0) {
    lease.markPublished(); // should we die with the rules in place, npm run clean removes them
    const rules = ports.map(
      ({ hostIp, hostPort, containerPort, protocol }) =>
        `insert rule ip ${TABLE} published ${hostIp ? `ip daddr ${hostIp} ` : ''}${protocol} dport ${hostPort} dnat to ${lease.address}:${containerPort} comment "${id}"`,
    );
    removeRulesAtExit(nft(rules.join('\n'), ['--echo', '--handle']), lease);
  }
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
