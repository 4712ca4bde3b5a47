// What the test suite must leave exactly as it found it on the real machine.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export type Snapshot = Record<string, string[]>;

function lines(text: string): string[] {
  return text.split('\n').filter(Boolean).sort();
}

/** Processes still running one of the steps or a sandbox (none should outlive a test). */
function ourProcesses(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (/steps\/\d\d-[\w-]+\/main\.ts|cfs-sandbox-/.test(cmdline)) found.push(cmdline.trim());
    } catch {
      // the process ended while we looked
    }
  }
  return found.sort();
}

export function snapshotMachine(): Snapshot {
  return {
    hostname: [readFileSync('/proc/sys/kernel/hostname', 'utf8').trim()],
    mounts: lines(readFileSync('/proc/self/mounts', 'utf8')),
    'step processes': ourProcesses(),
    'System V IPC objects': lines(execFileSync('ipcs', ['-a'], { encoding: 'utf8' })),
    'network interfaces': readdirSync('/sys/class/net').sort(),
  };
}

/** A line for every way `after` differs from `before`. */
export function differences(before: Snapshot, after: Snapshot): string[] {
  const found: string[] = [];
  for (const key of Object.keys(before)) {
    const was = new Set(before[key]);
    const now = new Set(after[key]);
    for (const item of now) if (!was.has(item)) found.push(`${key}: added ${item}`);
    for (const item of was) if (!now.has(item)) found.push(`${key}: removed ${item}`);
  }
  return found;
}
