// One lock for the bridge network of this host (its network namespace, in tests): who
// holds it may create the bridge, lease an address, or (npm run clean) remove what no
// container uses. The kernel drops it when its holder dies, SIGKILL included.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { fsError, lock } from './libc.ts';

export const NETWORK_DIR = '/run/container-from-scratch/bridge';

/** Run `action` while holding the network's lock (waiting for it if another has it). */
export function withNetworkLock<T>(action: () => T): T {
  let fd: number;
  try {
    mkdirSync(NETWORK_DIR, { recursive: true, mode: 0o700 });
    fd = openSync(`${NETWORK_DIR}/lock`, 'a', 0o600); // close-on-exec: the container never holds it
  } catch (error) {
    throw fsError(`lock ${NETWORK_DIR}/lock`, error);
  }
  try {
    lock(fd);
    return action();
  } finally {
    closeSync(fd);
  }
}
