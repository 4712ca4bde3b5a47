// Published ports, `-p`, in one place: what the flag means, the host port held, and the
// DNAT rules removed as the runtime ends. (The rules themselves are the step's lesson.)
//
// `-p` as docker run reads it, pure text to values (the unit tests try it):
//   -p 8080:80   -p 8080:80/udp   -p 127.0.0.1:8080:80   -p 80 (a free host port)
//
// A published port is the container's, and no one else's: the runtime binds it on the
// host, as docker's proxy does, and holds the socket for as long as it lives. The
// kernel then refuses the port to everyone else, another container's runtime or a
// program the host starts later (EADDRINUSE: else that program would never see a
// packet, the DNAT rule sending them all to the container), and lets go of it when the
// runtime dies, SIGKILL included. The socket is only bound, never listening: DNAT turns
// every packet to the container first. Bound before anything is made: a refused port
// leaves nothing behind.
//
// The DNAT rules of a container's published ports go when its runtime ends: nft echoed
// each rule it added with its handle ("... # handle 7"), the one name a rule has, and
// `delete rule ... handle 7` removes it. A runtime killed with SIGKILL cannot: its
// lease says so, and npm run clean removes its rules (cleanup.ts).
import { readFileSync } from 'node:fs';
import { AF_INET, bindInet, close, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_STREAM, socket } from '../kernel/libc.ts';
import { RuntimeError, SyscallError } from '../runtime/errors.ts';
import { atExit } from '../runtime/exit.ts';
import type { Lease } from './leases.ts';
import { nft, TABLE } from './nft.ts';

type Protocol = 'tcp' | 'udp';

export interface PortMapping {
  hostIp: string; // "" for every address of the host
  hostPort: number; // 0: any free port, the runtime picks it
  containerPort: number;
  protocol: Protocol;
}

const port = (text: string | undefined) =>
  /^\d{1,5}$/.test(text ?? '') && Number(text) >= 1 && Number(text) <= 65535 ? Number(text) : undefined;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** "[HOSTIP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp]", or undefined when it is not one. */
export function parsePublish(text: string): PortMapping | undefined {
  const [ports = '', protocol = 'tcp', ...more] = text.split('/');
  if (more.length > 0 || (protocol !== 'tcp' && protocol !== 'udp')) return undefined;
  const parts = ports.split(':');
  if (parts.length > 3) return undefined;
  const containerPort = port(parts.at(-1));
  const hostPort = parts.length >= 2 ? port(parts.at(-2)) : 0;
  // 0.0.0.0 is every address, as docker reads it: no `ip daddr` in the rule (none has it)
  const hostIp = parts.length === 3 && parts[0] !== '0.0.0.0' ? parts[0]! : '';
  if (containerPort === undefined || hostPort === undefined || (hostIp !== '' && !IPV4.test(hostIp))) return undefined;
  return { hostIp, hostPort, containerPort, protocol };
}

/** "127.0.0.1:8080->80/tcp", as `docker ps` shows a published port. */
export const describePort = ({ hostIp, hostPort, containerPort, protocol }: PortMapping) =>
  `${hostIp || '0.0.0.0'}:${hostPort}->${containerPort}/${protocol}`;

/** Bind every mapping's host port, picking a free one for `-p 80`; the ports, as bound. */
export function claimPorts(mappings: PortMapping[]): PortMapping[] {
  return mappings.map((mapping) => {
    const claimed = { ...mapping, hostPort: mapping.hostPort === 0 ? holdFreePort(mapping) : hold(mapping) };
    if (mapping.hostPort === 0) process.stderr.write(`Published ${describePort(claimed)}\n`); // -p 80: say which
    return claimed;
  });
}

/** As docker: the first free port of the kernel's range for outgoing connections. */
function holdFreePort(mapping: PortMapping): number {
  const range = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
  const [low = 32768, high = 60999] = range.trim().split(/\s+/).map(Number);
  for (let port = low; port <= high; port++) {
    try {
      return hold({ ...mapping, hostPort: port });
    } catch (error) {
      if (!(error instanceof RuntimeError)) throw error; // anything but "in use"
    }
  }
  throw new RuntimeError(`no free ${mapping.protocol} port left in ${low}-${high}`);
}

/**
 * Bind a socket to the mapping's host address and port, and keep it (close-on-exec) until
 * we exit. Bound, never listening, and without SO_REUSEADDR: the kernel refuses the port
 * to any other bind, even one with SO_REUSEADDR (most servers set it), and a connection
 * that reaches it before the DNAT rule is refused at once, never left waiting.
 */
function hold(mapping: PortMapping): number {
  const { hostIp, hostPort, protocol } = mapping;
  const fd = socket(AF_INET, (protocol === 'tcp' ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC);
  try {
    bindInet(fd, hostIp || '0.0.0.0', hostPort);
  } catch (error) {
    close(fd);
    if (error instanceof SyscallError && error.code === 'EADDRINUSE')
      throw new RuntimeError(`${describePort(mapping)}: port ${hostPort}/${protocol} is in use on this host`);
    throw error;
  }
  return hostPort;
}

/** As this process ends, remove the rules in `echoed` (nft --echo --handle's output), then clear the lease's mark. */
export function removeRulesAtExit(echoed: string, lease: Lease): void {
  const handles = [...echoed.matchAll(/ # handle (\d+)$/gm)].map(([, handle]) => handle);
  atExit(() => {
    try {
      nft(handles.map((handle) => `delete rule ip ${TABLE} published handle ${handle}`).join('\n'));
      lease.clearPublished();
    } catch {
      // nothing to say as we end: npm run clean removes them
    }
  });
}
