// What step 11's veth pair needs besides the `ip` commands it shows: an address no one
// on the host uses, and a moment's wait until the pair carries traffic.
import { RuntimeError } from './errors.ts';
import { InterfaceRequest } from './ifreq.ts';
import { ip } from './ip.ts';
import { AF_INET, close, IFF_RUNNING, ioctl, SIOCGIFFLAGS, SOCK_CLOEXEC, SOCK_DGRAM, socket } from './libc.ts';
import { sleep } from './sleep.ts';
import { freeSubnet, parseAddresses, SUBNETS, type Subnet, subnet, usersOf } from './subnets.ts';

const hostAddresses = () => parseAddresses(ip(['addr show'], ['-o', '-4']));

/** A /30 of 10.200.0.0/16 that no interface of the host uses now. */
export function chooseSubnet(id: string): Subnet {
  return freeSubnet(id, hostAddresses());
}

/**
 * Another runtime may have chosen the same /30 meanwhile, and the kernel lets two
 * interfaces hold one address. Once ours is on `hostEnd`: whoever sees another there
 * gives it up and moves to a random one (the one that looks last sees both, so two
 * never keep one). Returns the subnet `hostEnd` ends up with.
 */
export function settleSubnet(hostEnd: string, chosen: Subnet): Subnet {
  let current = chosen;
  while (usersOf(hostAddresses(), current.index).some((name) => name !== hostEnd)) {
    const next = subnet(Math.floor(Math.random() * SUBNETS));
    ip([`addr del ${current.host}/30 dev ${hostEnd}`, `addr add ${next.host}/30 dev ${hostEnd}`]);
    current = next;
  }
  return current;
}

/**
 * The end that went up first (the host's) carries traffic only once the kernel has seen
 * the other end come up: until then its queue is a "noop" that drops every packet (a
 * moment, longer on a busy machine). Wait for it.
 */
export function waitUntilUp(name: string): void {
  const fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC);
  try {
    // IFF_RUNNING: the kernel's "operationally up", set as it starts the queue.
    const request = new InterfaceRequest(name);
    for (let waited = 0; ; waited += 5) {
      ioctl(fd, SIOCGIFFLAGS, request.buffer);
      if (request.flags & IFF_RUNNING) return;
      if (waited >= 10_000) throw new RuntimeError(`veth: ${name} not up after 10 s`);
      sleep(5);
    }
  } finally {
    close(fd);
  }
}
