// IPv4 forwarding, which step 12 turns on: was the host a router before? If it was
// not, it forwards only the containers' traffic (step 12's `forward` chain drops the
// rest), and npm run clean turns forwarding back off with the table. The note lives
// beside the network's lock; the lock's holder calls these.
import { existsSync, rmSync } from 'node:fs';
import { readFile, writeFile } from '../kernel/files.ts';
import { fsError } from '../kernel/libc.ts';
import { NETWORK_DIR } from './leases.ts';

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';
const WAS_OFF = `${NETWORK_DIR}/forwarding-was-off`;

/** Whether this host forwarded packets before the course; if not, a note for clean. */
export function wasRouter(): boolean {
  if (readFile(IP_FORWARD).trim() === '1') return true;
  writeFile(WAS_OFF, '');
  return false;
}

/** Turn forwarding back off if the course turned it on; a line to say so, or none. */
export function restoreForwarding(): string[] {
  if (!existsSync(WAS_OFF)) return [];
  writeFile(IP_FORWARD, '0');
  try {
    rmSync(WAS_OFF);
  } catch (error) {
    throw fsError(`rm ${WAS_OFF}`, error);
  }
  return ['turned IPv4 forwarding back off (ip_forward 0), as it was'];
}
