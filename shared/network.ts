// Network interfaces, set up the way `ip link set lo up` does it, minus the program:
// two ioctl(2)s on any socket of the network namespace we are in.
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
