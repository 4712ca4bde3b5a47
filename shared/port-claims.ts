// A published port is the container's, and no one else's: the runtime binds it on the
// host, as docker's proxy does, and holds the socket for as long as it lives. The
// kernel then refuses the port to everyone else, another container's runtime or a
// program the host starts later (EADDRINUSE: else that program would never see a
// packet, the DNAT rule sending them all to the container), and lets go of it when the
// runtime dies, SIGKILL included. No packet reaches the socket itself: DNAT turns each
// one to the container first. Bound before anything is made: a refused port leaves
// nothing behind.
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { RuntimeError } from './errors.ts';
import { fsError } from './libc.ts';
import { describePort, type PortMapping } from './ports.ts';

/** Bind every mapping's host port, picking a free one for `-p 80`; the ports, as bound. */
export async function claimPorts(mappings: PortMapping[]): Promise<PortMapping[]> {
  const claimed: PortMapping[] = [];
  for (const mapping of mappings) {
    const hostPort = mapping.hostPort === 0 ? await holdFreePort(mapping) : await hold(mapping);
    claimed.push({ ...mapping, hostPort });
  }
  return claimed;
}

/** As docker: the first free port of the kernel's range for outgoing connections. */
async function holdFreePort(mapping: PortMapping): Promise<number> {
  const range = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
  const [low = 32768, high = 60999] = range.trim().split(/\s+/).map(Number);
  for (let port = low; port <= high; port++) {
    try {
      return await hold({ ...mapping, hostPort: port });
    } catch (error) {
      if (!(error instanceof RuntimeError)) throw error; // anything but "in use"
    }
  }
  throw new RuntimeError(`no free ${mapping.protocol} port left in ${low}-${high}`);
}

/** Bind (and for TCP listen on) the mapping's host address and port; resolves to the port. */
function hold(mapping: PortMapping): Promise<number> {
  const { hostIp, hostPort, protocol } = mapping;
  const options = { host: hostIp || '0.0.0.0', address: hostIp || '0.0.0.0', port: hostPort, exclusive: true };
  return new Promise((resolve, reject) => {
    const refuse = (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new RuntimeError(`${describePort(mapping)}: port ${hostPort}/${protocol} is in use on this host`)
          : fsError(`bind ${options.host}:${hostPort}/${protocol}`, error),
      );
    // unref(): the socket never keeps the runtime alive; it closes as the runtime ends.
    if (protocol === 'tcp') {
      const server = createServer((connection) => connection.destroy()).once('error', refuse);
      server.listen({ ...options, backlog: 1 }, () => resolve((server.unref().address() as AddressInfo).port));
    } else {
      const socket = createSocket('udp4').once('error', refuse);
      socket.bind(options, () => resolve(socket.unref().address().port));
    }
  });
}
