// Capabilities by name, and the set docker leaves a container's root: 14 of the kernel's
// 41, enough for ordinary work (chown a file, bind port 80, ping, setuid to a user),
// not enough to mount, load modules, change the network, or trace the host.
import { readFileSync } from 'node:fs';

// capability(7), in the kernel's order: the bit of each is its index.
// biome-ignore format: a table
const NAMES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
].map((name) => `CAP_${name}`);

/** Every capability, by name. */
export const ALL_CAPABILITIES = NAMES;

/** docker run's default: its CapBnd reads 00000000a80425fb. */
// biome-ignore format: a table
export const DOCKER_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** "CAP_NET_ADMIN" or "NET_ADMIN" (as docker takes them), or undefined. */
export function capabilityName(text: string): string | undefined {
  const name = `CAP_${text.toUpperCase().replace(/^CAP_/, '')}`;
  return NAMES.includes(name) ? name : undefined;
}

/** The mask of `names`: bit n for capability n (capset's, and /proc/self/status's CapBnd). */
export function capabilityMask(names: Iterable<string>): bigint {
  let mask = 0n;
  for (const name of names) mask |= 1n << BigInt(NAMES.indexOf(name));
  return mask;
}

/** The highest capability this kernel has (newer kernels may have more than we name); the last we name where /proc/sys does not say. */
export function lastCapability(): number {
  try {
    return Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
  } catch {
    return NAMES.length - 1;
  }
}
