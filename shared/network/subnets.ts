// Step 11's addresses: 10.200.0.0/16 cut into /30s, one per container, 16384 in all;
// each holds 4 addresses: the network, `.1` for the host's end, `.2` for the
// container's, and the broadcast address. Pure arithmetic (the unit tests try it), but
// for claimSubnet, which asks `ip` which addresses the host has.
import { RuntimeError } from '../runtime/errors.ts';
import { ip } from './ip.ts';
export const SUBNETS = 2 ** 14;

export interface Subnet {
  index: number;
  host: string; // "10.200.3.9"
  container: string; // "10.200.3.10"
}

const BASE = ((10 << 24) | (200 << 16)) >>> 0;
const dotted = (n: number) => [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.');
const numeric = (address: string) => address.split('.').reduce((n, byte) => n * 256 + Number(byte), 0);

export function subnet(index: number): Subnet {
  const network = (BASE + index * 4) >>> 0;
  return { index, host: dotted(network + 1), container: dotted(network + 2) };
}

interface HostAddress {
  name: string; // the interface
  address: string;
  bits: number; // its prefix length
}

/** `ip -o -4 addr show`: "2: eth0    inet 10.0.2.15/24 brd 10.0.2.255 scope global eth0\ ..." */
export function parseAddresses(text: string): HostAddress[] {
  return text.split('\n').flatMap((line) => {
    const [, name, address, bits] = /^\d+: (\S+)\s+inet ([\d.]+)\/(\d+)/.exec(line) ?? [];
    return name ? [{ name, address: address!, bits: Number(bits) }] : [];
  });
}

/** The interfaces among `addresses` whose network overlaps the /30 number `index`. */
export function usersOf(addresses: HostAddress[], index: number): string[] {
  const ours = BASE + index * 4;
  return addresses.flatMap(({ name, address, bits }) => {
    const prefix = Math.min(30, bits);
    const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0; // << 32 would shift by 0
    return (numeric(address) & mask) >>> 0 === (ours & mask) >>> 0 ? [name] : [];
  });
}

/** The /30 of container `id` (hex digits), from the id alone. */
export function subnetOf(id: string): Subnet {
  return subnet(Number.parseInt(id.slice(0, 8), 16) % SUBNETS);
}

/** The subnet for container `id` (hex digits): its own, or the next one no interface uses. */
export function freeSubnet(id: string, addresses: HostAddress[]): Subnet {
  const start = Number.parseInt(id.slice(0, 8), 16) % SUBNETS;
  for (let tried = 0; tried < SUBNETS; tried++) {
    const index = (start + tried) % SUBNETS;
    if (usersOf(addresses, index).length === 0) return subnet(index);
  }
  throw new RuntimeError('veth: no free /30 left in 10.200.0.0/16 on this host');
}

const listing = (commands: string[]) => parseAddresses(ip(commands, ['-o', '-4']));

/**
 * Step 11's addresses: a /30 of 10.200.0.0/16 for the veth pair, from the container's
 * `id`, its `.1` added to `hostEnd` (`ip addr add <.1>/30 dev <it>`), moved should
 * another interface of the host have that /30 too. `.2` is for the container's end.
 */
export function claimSubnet(hostEnd: string, id: string): Subnet {
  const chosen = subnetOf(id);
  return settleSubnet(hostEnd, chosen, ip([`addr add ${chosen.host}/30 dev ${hostEnd}`, 'addr show'], ['-o', '-4']));
}

/**
 * Settle the /30 of `hostEnd`, which holds `chosen`, given the host's addresses as `ip -o
 * -4 addr show` listed them, ours among them. If another interface overlaps it (a network
 * of the host's own, or another runtime's end that chose the same /30 at the same moment:
 * the kernel lets two interfaces hold one address), move to a free one, searched from a
 * random start (the one that looks last sees both, so two never keep one). Our end is
 * still down meanwhile: the address of a down interface routes nothing.
 */
function settleSubnet(hostEnd: string, chosen: Subnet, addresses: string): Subnet {
  let current = chosen;
  let seen = parseAddresses(addresses);
  while (usersOf(seen, current.index).some((name) => name !== hostEnd)) {
    const anywhere = Math.floor(Math.random() * 2 ** 32)
      .toString(16)
      .padStart(8, '0');
    const next = freeSubnet(
      anywhere,
      seen.filter(({ name }) => name !== hostEnd),
    );
    seen = listing([`addr del ${current.host}/30 dev ${hostEnd}`, `addr add ${next.host}/30 dev ${hostEnd}`, 'addr show']);
    current = next;
  }
  return current;
}
