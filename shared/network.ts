// Network interfaces. Step 07: `lo` brought up the way `ip link set lo up` does it,
// minus the program: two ioctl(2)s on any socket of the network namespace we are in.
// Step 11: a veth pair to the host (below).
import { execFileSync } from 'node:child_process';
import { RuntimeError } from './errors.ts';
import {
  AF_INET, close, IFF_UP, ioctl, SIOCGIFFLAGS, SIOCSIFFLAGS, SOCK_CLOEXEC, SOCK_DGRAM, socket,
} from './libc.ts';

const IFNAMSIZ = 16; // struct ifreq: char ifr_name[16], then a union (here: short ifr_flags)
const IFREQ_SIZE = 40;

/**
 * Bring a network interface up. A new network namespace has exactly one interface,
 * the loopback `lo`, and it starts *down*: even 127.0.0.1 is unreachable until then.
 */
export function bringUp(name: string): void {
  const ifreq = Buffer.alloc(IFREQ_SIZE);
  ifreq.write(name, 0, IFNAMSIZ - 1);
  const fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC);
  try {
    ioctl(fd, SIOCGIFFLAGS, ifreq, `SIOCGIFFLAGS ${name}`);
    ifreq.writeUInt16LE(ifreq.readUInt16LE(IFNAMSIZ) | IFF_UP, IFNAMSIZ);
    ioctl(fd, SIOCSIFFLAGS, ifreq, `SIOCSIFFLAGS ${name}`);
  } finally {
    close(fd);
  }
}

// ---------------------------------------------------------------------------------
// Step 11: a veth pair, a virtual cable between two network namespaces. What one end
// sends, the other receives. The runtime, root on the host, lays it with iproute2's
// `ip` (the netlink messages it sends are many and fiddly, its command line is what a
// learner types too), while the container's first process waits (shared/userns.ts).

const SUBNETS = 2 ** 14; // 10.200.0.0/16 cut into /30s: 16384 links, 2 addresses each

/** The /30 number `index`: `.1` for the host's end, `.2` for the container's. */
function subnet(index: number): { host: string; container: string; network: number } {
  const network = ((10 << 24) | (200 << 16) | (index << 2)) >>> 0;
  const address = (n: number) => [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.');
  return { host: `${address(network + 1)}/30`, container: `${address(network + 2)}/30`, network };
}

/**
 * Connect the container whose first process is `pid` (as the host sees it) to the
 * host: `cfs-<id>` on the host, `eth0` in the container, a /30 of 10.200.0.0/16 between
 * them, and a default route through the host's end. Nothing is left to remove: when
 * the container's network namespace dies (its last process ends, even after SIGKILL),
 * the kernel destroys `eth0`, and a veth end never outlives its peer: `cfs-<id>` goes too
 * (a moment later: the kernel tears a dead namespace down in the background).
 */
export function connectToHost(id: string, pid: number): void {
  const host = `cfs-${id.slice(0, 8)}`; // an interface's name has at most 15 characters
  // The container's subnet, from its id; the next free one if the host uses it already.
  const taken = hostSubnets();
  let index = Number.parseInt(id.slice(0, 8), 16) % SUBNETS;
  for (let tried = 0; users(taken, index).length > 0; tried++) {
    if (tried === SUBNETS) throw new RuntimeError('veth: no free /30 left in 10.200.0.0/16 on this host');
    index = (index + 1) % SUBNETS;
  }
  // `netns <pid>`: the peer is born in the container's network namespace.
  ip([`link add ${host} type veth peer name eth0 netns ${pid}`, `addr add ${subnet(index).host} dev ${host}`, `link set ${host} up`]);
  // Another runtime may have chosen the same subnet meanwhile: the kernel lets two
  // interfaces hold one address. Whoever sees another there gives it up and tries a
  // random one (the one that looks last sees both, so two never keep one).
  while (users(hostSubnets(), index).some((name) => name !== host)) {
    const next = Math.floor(Math.random() * SUBNETS);
    ip([`addr del ${subnet(index).host} dev ${host}`, `addr add ${subnet(next).host} dev ${host}`]);
    index = next;
  }
  // The container's end, set up from here: we enter its network namespace only
  // (root on the host may act in any, even one that belongs to the container's user
  // namespace), while its first process still waits, so the command starts connected.
  ip([`addr add ${subnet(index).container} dev eth0`, 'link set eth0 up', `route add default via ${subnet(index).host.slice(0, -3)}`], pid);
  // The end that went up first (the host's) only carries traffic once the kernel has
  // seen the other end come up: its queue stays a "noop" that drops every packet until
  // then, a moment later (longer on a busy machine). Wait for it.
  for (let waited = 0; !isUp(host); waited += 5) {
    if (waited >= 10_000) throw new RuntimeError(`veth: ${host} not up after 10 s`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); // sleep 5 ms
  }
}

/** "5: cfs-1a2b3c4d@if2: <...,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP ..." */
function isUp(name: string): boolean {
  const line = ip([`link show dev ${name}`], undefined, ['-o']);
  return / state UP /.test(line) && !/ qdisc noop /.test(line);
}

interface HostSubnet {
  name: string;
  network: number; // the address, as a number
  bits: number; // its prefix length
}

/** Every IPv4 address of the host's interfaces (`ip -o -4 addr show`). */
function hostSubnets(): HostSubnet[] {
  // "2: cfs-1a2b3c4d    inet 10.200.0.1/30 scope global cfs-1a2b3c4d\ ..."
  return ip(['addr show'], undefined, ['-o', '-4']).split('\n').flatMap((line) => {
    const [, name, address, bits] = /^\d+: (\S+)\s+inet ([\d.]+)\/(\d+)/.exec(line) ?? [];
    return name ? [{ name, network: address!.split('.').reduce((n, byte) => n * 256 + Number(byte), 0), bits: Number(bits) }] : [];
  });
}

/** The interfaces whose subnet overlaps the /30 number `index`. */
function users(subnets: HostSubnet[], index: number): string[] {
  const ours = subnet(index).network;
  return subnets.flatMap(({ name, network, bits }) => {
    const prefix = Math.min(30, bits);
    const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0; // << 32 would shift by 0
    return ((network & mask) >>> 0) === ((ours & mask) >>> 0) ? [name] : [];
  });
}

/**
 * Run `ip` commands (`ip -batch`), in the container's network namespace when `pid` is
 * given (nsenter(1)); returns what they print. The first that fails stops them: one
 * line naming it, then status 125 (shared/cli.ts).
 */
function ip(commands: string[], pid?: number, options: string[] = []): string {
  const where = pid === undefined ? [] : ['nsenter', `--net=/proc/${pid}/ns/net`];
  const [file, ...args] = [...where, 'ip', ...options, '-batch', '-'];
  try {
    return execFileSync(file!, args, { input: commands.join('\n'), encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (error) {
    const { code, stderr, status } = error as NodeJS.ErrnoException & { stderr?: string; status?: number };
    const from = file === 'ip' ? 'iproute2' : 'util-linux';
    if (code === 'ENOENT') throw new RuntimeError(`${file}: not found: install ${from} (sudo apt-get install ${from})`);
    // ip says why, then "Command failed -:2": the line of its input that failed.
    const said = `${stderr ?? ''}`.trim().split('\n');
    const line = Number(/^Command failed -:(\d+)$/.exec(said.at(-1) ?? '')?.[1] ?? 1);
    const why = said.filter((text) => !text.startsWith('Command failed')).join(' ').replace(/^Error: /, '');
    throw new RuntimeError(`${[...where, 'ip'].join(' ')} ${commands[line - 1]}: ${why || `status ${status}`}`);
  }
}
