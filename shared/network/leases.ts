// Each container's address on the bridge: a lease, the lock file <network>/leases/<address>,
// that its runtime holds for as long as it lives, as shared/userns/id-ranges.ts holds a range of
// IDs: the kernel drops it when the runtime dies, SIGKILL included, and the address is
// free again. Leases are taken under the network's lock (shared/network/lock.ts), the
// lowest free first, as docker gives 172.17.0.2, then .3. A lease whose file is not empty
// had published ports: its dead runtime's DNAT rules may still send packets to that
// address, so it stays unused until npm run clean has removed them (shared/network/cleanup.ts).
import { closeSync, fstatSync, ftruncateSync, openSync, readdirSync, writeSync } from 'node:fs';
import { tryLock } from '../kernel/libc.ts';
import { holdLock, isHeld } from '../kernel/locks.ts';
import { RuntimeError } from '../runtime/errors.ts';
import { addressAt, CONTAINER_ADDRESSES, type Network } from './bridge.ts';
import { NETWORK_DIR } from './lock.ts';

const LEASES_DIR = `${NETWORK_DIR}/leases`;

export interface Lease {
  address: string;
  gateway: string;
  /** Say in the lease that rules send ports to it (before they are added)... */
  markPublished(): void;
  /** ...and that they are gone. */
  clearPublished(): void;
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
