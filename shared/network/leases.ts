// The bridge network's lock, and each container's address on it. Who holds the network's
// lock may create the bridge, lease an address, or (npm run clean) remove what no
// container uses; the kernel drops it when its holder dies, SIGKILL included.
// Each container's address on the bridge: a lease, the lock file <network>/leases/<address>,
// that its runtime holds for as long as it lives, as shared/userns/id-ranges.ts holds a range of
// IDs: the kernel drops it when the runtime dies, SIGKILL included, and the address is
// free again. Leases are taken under the network's lock, the
// lowest free first, as docker gives 172.17.0.2, then .3. A lease whose file is not empty
// had published ports: its dead runtime's DNAT rules may still send packets to that
// address, so it stays unused until npm run clean has removed them (shared/network/cleanup.ts).
import { closeSync, fstatSync, ftruncateSync, openSync, readdirSync, writeSync } from 'node:fs';
import { tryLock } from '../kernel/libc.ts';
import { holdLock, isHeld, withLock } from '../kernel/locks.ts';
import { RuntimeError } from '../runtime/errors.ts';
import { addressAt, BRIDGE, CONTAINER_ADDRESSES, type Network, networkOf } from './bridge.ts';
import { interfaceAddress } from './links.ts';
import { nft, TABLE } from './nft.ts';

export const NETWORK_DIR = '/run/container-from-scratch/bridge';
const LEASES_DIR = `${NETWORK_DIR}/leases`;

/** Run `action` while holding the network's lock (waiting for it if another has it). */
export function withNetworkLock<T>(action: () => T): T {
  return withLock(`${NETWORK_DIR}/lock`, action);
}

export interface Lease {
  address: string;
  gateway: string;
  /** Say in the lease that rules send ports to it (before they are added)... */
  markPublished(): void;
  /** ...and that they are gone. */
  clearPublished(): void;
}

/**
 * The bridge's network, if the bridge is there: from its address (`ip addr show cfs0`, in
 * one ioctl). A bridge without the course's table (a flushed ruleset: `nft flush ruleset`,
 * a restart of nftables) stops the runtime: no NAT, and the host would forward for anyone.
 */
export function existingNetwork(): Network | undefined {
  const gateway = interfaceAddress(BRIDGE);
  if (gateway === undefined) return undefined;
  if (!nft('list tables').includes(`table ip ${TABLE}\n`)) {
    throw new RuntimeError(`the bridge ${BRIDGE} has lost its nftables table ${TABLE}: stop its containers, then sudo npm run clean`);
  }
  return networkOf(gateway);
}

/** Lease the first free address of `network`: ours until this process ends. */
export function leaseAddress(network: Network): Lease {
  for (let n = 2; n < 2 + CONTAINER_ADDRESSES; n++) {
    const address = addressAt(network, n);
    const fd = holdLock(`${LEASES_DIR}/${address}`); // held until we exit (kernel/locks.ts)
    if (fd === undefined) continue; // a running container's address
    if (fstatSync(fd).size === 0) {
      const markPublished = () => writeSync(fd, 'published\n');
      return { address, gateway: network.gateway, markPublished, clearPublished: () => ftruncateSync(fd) };
    }
    closeSync(fd); // one with rules left over
  }
  throw new RuntimeError(`bridge: all ${CONTAINER_ADDRESSES} addresses of ${network.cidr} are in use`);
}

/** The addresses whose lease a living runtime holds. */
export function leasedAddresses(): string[] {
  return leaseFiles().filter((address) => isHeld(`${LEASES_DIR}/${address}`));
}

/** Forget the published ports of the leases no runtime holds: their rules are gone. */
export function clearDeadLeases(): void {
  for (const address of leaseFiles()) {
    const fd = openSync(`${LEASES_DIR}/${address}`, 'r+');
    try {
      if (tryLock(fd)) ftruncateSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

function leaseFiles(): string[] {
  try {
    return readdirSync(LEASES_DIR);
  } catch {
    return [];
  }
}
