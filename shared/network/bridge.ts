// Step 12's network: one /16 for all the containers of the host, on the bridge `cfs0`,
// whose address, `.0.1`, is their gateway. 10.201.0.0/16 unless an interface of the
// host already has an address in it (a VPN, a network of the host's own): then the
// next of 10.202.0.0/16 ... 10.254.0.0/16 that none overlaps, as docker picks
// 172.17.0.0/16 or the next free one. Pure arithmetic, so the unit tests can try it.
import { RuntimeError } from '../runtime/errors.ts';
import { parseAddresses } from './subnets.ts';

export const BRIDGE = 'cfs0';
const NETWORK_BITS = 16;

export interface Network {
  cidr: string; // "10.201.0.0/16"
  gateway: string; // "10.201.0.1": the bridge's own address
}

const numeric = (address: string) => address.split('.').reduce((n, byte) => n * 256 + Number(byte), 0);
const dotted = (n: number) => [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.');
const maskOf = (bits: number) => (bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0); // << 32 would shift by 0

/** The network whose gateway (the bridge's address) is `gateway`. */
export function networkOf(gateway: string): Network {
  const base = (numeric(gateway) & maskOf(NETWORK_BITS)) >>> 0;
  return { cidr: `${dotted(base)}/${NETWORK_BITS}`, gateway };
}

/** The first candidate /16 that no address of the host (`ip -o -4 addr show`) overlaps. */
export function freeNetwork(listing: string): Network {
  const taken = parseAddresses(listing);
  for (let second = 201; second <= 254; second++) {
    const base = ((10 << 24) | (second << 16)) >>> 0;
    const overlaps = taken.some(({ address, bits }) => {
      const mask = maskOf(Math.min(bits, NETWORK_BITS));
      return (numeric(address) & mask) >>> 0 === (base & mask) >>> 0;
    });
    if (!overlaps) return { cidr: `${dotted(base)}/${NETWORK_BITS}`, gateway: dotted(base + 1) };
  }
  throw new RuntimeError('bridge: every /16 from 10.201.0.0 to 10.254.0.0 overlaps an address of this host');
}

/** The n-th address of the network: 2 is the first container's (1 is the gateway). */
export function addressAt(network: Network, n: number): string {
  return dotted(numeric(network.cidr.split('/')[0]!) + n);
}

/** How many addresses the containers have: all but the network, the gateway and the broadcast. */
export const CONTAINER_ADDRESSES = 2 ** (32 - NETWORK_BITS) - 3;
