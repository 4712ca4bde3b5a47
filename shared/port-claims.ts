// A published port is one container's: a lock per port, <network>/ports/tcp-8080.lock,
// held by the runtime for as long as it lives (the kernel drops it when the runtime
// dies, SIGKILL included), and no program of the host's may be using it already: its
// packets would go to the container instead. Checked before anything is made, so a
// refused port leaves nothing behind.
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { RuntimeError } from './errors.ts';
import { fsError, tryLock } from './libc.ts';
import { NETWORK_DIR } from './network-lock.ts';
import { describePort, type PortMapping, type Protocol } from './ports.ts';

const PORTS_DIR = `${NETWORK_DIR}/ports`;

/** Claim every mapping's host port, picking a free one for `-p 80`; the ports, as claimed. */
export function claimPorts(mappings: PortMapping[]): PortMapping[] {
  if (mappings.length === 0) return [];
  try {
    mkdirSync(PORTS_DIR, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw fsError(`mkdir ${PORTS_DIR}`, error);
  }
  return mappings.map((mapping) => {
    if (mapping.hostPort === 0) return { ...mapping, hostPort: pickFreePort(mapping.protocol) };
    const { hostPort, protocol } = mapping;
    if (busyOnHost(hostPort, protocol))
      throw new RuntimeError(`${describePort(mapping)}: port ${hostPort}/${protocol} is in use on this host`);
    if (!claim(hostPort, protocol))
      throw new RuntimeError(`${describePort(mapping)}: port ${hostPort}/${protocol} is already published by another container`);
    return mapping;
  });
}

/** The lock of the port, ours from now on (its descriptor stays open until we exit). */
function claim(port: number, protocol: Protocol): boolean {
  const fd = openSync(`${PORTS_DIR}/${protocol}-${port}.lock`, 'a', 0o600); // close-on-exec
  if (tryLock(fd)) return true;
  closeSync(fd);
  return false;
}

/** As docker: the first free port of the kernel's range for outgoing connections. */
function pickFreePort(protocol: Protocol): number {
  const [low = 32768, high = 60999] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  for (let port = low; port <= high; port++) if (!busyOnHost(port, protocol) && claim(port, protocol)) return port;
  throw new RuntimeError(`no free ${protocol} port left in ${low}-${high}`);
}

/**
 * Whether a socket of this host (its network namespace) has the port: a TCP one
 * listening (state 0A), any UDP one. /proc/net/tcp: "0: 0100007F:1E61 00000000:0000 0A ...".
 */
function busyOnHost(port: number, protocol: Protocol): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return ['', '6'].some((v6) => {
    let table: string;
    try {
      table = readFileSync(`/proc/net/${protocol}${v6}`, 'utf8');
    } catch {
      return false; // no IPv6 here
    }
    return table
      .split('\n')
      .slice(1)
      .some((line) => {
        const [, local = '', , state] = line.trim().split(/\s+/);
        return local.endsWith(hex) && (protocol === 'udp' || state === '0A');
      });
  });
}
