// A network link (a veth end, the bridge), besides the `ip` commands the steps show:
// brought up, its address read, and a moment's wait until it carries traffic.

import { InterfaceRequest } from '../kernel/ifreq.ts';
import {
  AF_INET,
  close,
  IFF_RUNNING,
  IFF_UP,
  ioctl,
  SIOCGIFADDR,
  SIOCGIFFLAGS,
  SIOCSIFFLAGS,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  socket,
} from '../kernel/libc.ts';
import { sleep } from '../kernel/sleep.ts';
import { RuntimeError, SyscallError } from '../runtime/errors.ts';

/** `ip link set <name> up`, minus the program: the two ioctl(2)s of step 07. */
export function bringUp(name: string): void {
  withSocket((fd) => {
    const request = new InterfaceRequest(name);
    ioctl(fd, SIOCGIFFLAGS, request.buffer);
    request.flags |= IFF_UP;
    ioctl(fd, SIOCSIFFLAGS, request.buffer);
  });
}

/** The IPv4 address of interface `name` (`ip -4 addr show <name>`, one ioctl(2)); undefined when there is no such interface. */
export function interfaceAddress(name: string): string | undefined {
  try {
    return withSocket((fd) => {
      const request = new InterfaceRequest(name);
      ioctl(fd, SIOCGIFADDR, request.buffer);
      return request.address;
    });
  } catch (error) {
    if (error instanceof SyscallError && error.code === 'ENODEV') return undefined;
    throw error;
  }
}

function withSocket<T>(action: (fd: number) => T): T {
  const fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC);
  try {
    return action(fd);
  } finally {
    close(fd);
  }
}

/**
 * The end that went up first (the host's) carries traffic only once the kernel has seen
 * the other end come up: until then its queue is a "noop" that drops every packet (a
 * moment, longer on a busy machine). Wait for it.
 */
export function waitUntilUp(name: string): void {
  withSocket((fd) => {
    // IFF_RUNNING: the kernel's "operationally up". It is set just before the queue is
    // turned on, both under the lock of the network configuration (rtnl); setting the
    // flags again takes that lock too, so once that returns, the queue is on.
    const request = new InterfaceRequest(name);
    for (let waited = 0; ; waited += 1) {
      ioctl(fd, SIOCGIFFLAGS, request.buffer);
      if (request.flags & IFF_RUNNING) return ioctl(fd, SIOCSIFFLAGS, request.buffer);
      if (waited >= 10_000) throw new RuntimeError(`veth: ${name} not up after 10 s`);
      sleep(1);
    }
  });
}
