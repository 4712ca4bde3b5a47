// One lock for the bridge network of this host (its network namespace, in tests): who
// holds it may create the bridge, lease an address, or (npm run clean) remove what no
// container uses. The kernel drops it when its holder dies, SIGKILL included.
import { withLock } from '../kernel/locks.ts';

export const NETWORK_DIR = '/run/container-from-scratch/bridge';

/** Run `action` while holding the network's lock (waiting for it if another has it). */
export function withNetworkLock<T>(action: () => T): T {
  return withLock(`${NETWORK_DIR}/lock`, action);
}
