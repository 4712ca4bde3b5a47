// What the test suite must leave exactly as it found it on the real machine.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { readMounts } from '../../shared/kernel/mountinfo.ts';
import { DEFAULT_CGROUP_PARENT as CGROUP_PARENT } from '../../shared/runtime/config.ts';

export type Snapshot = Record<string, string[]>;

function lines(text: string): string[] {
  return text.split('\n').filter(Boolean).sort();
}

/** Processes started by this test run's sandboxes (none should outlive a test). */
function ourProcesses(marker: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(marker)) continue;
      found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()}`);
    } catch {
      // the process ended while we looked
    }
  }
  return found.sort();
}

/**
 * The cgroups of steps 09+ (<tree>/container-from-scratch/<id>) in every cgroup tree
 * mounted here. cgroupfs is one for the whole machine: no sandbox hides a cgroup.
 */
function containerCgroups(): string[] {
  const trees = readMounts()
    .filter(({ type }) => type === 'cgroup' || type === 'cgroup2')
    .map(({ mountPoint }) => `${mountPoint}/${CGROUP_PARENT}`);
  return trees.flatMap((parent) => {
    try {
      return [
        parent,
        ...readdirSync(parent, { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => `${parent}/${e.name}`),
      ];
    } catch {
      return []; // no container cgroup in this tree
    }
  });
}

/**
 * The tests' common cgroup parent (<tree>/container-from-scratch), in every tree where the
 * snapshot `before` had none: removed where empty, once every test is done. Each sandbox
 * removes its own cgroups, but not this parent, which another's may be in at the time; a
 * runtime removes its container's cgroup only. Nothing runs any more: no race.
 */
export function removeCommonCgroupParent(before: Snapshot): void {
  const had = new Set(before['cgroups made by the tests']);
  for (const dir of containerCgroups().filter((dir) => dir.endsWith(`/${CGROUP_PARENT}`) && !had.has(dir))) {
    try {
      rmdirSync(dir);
    } catch {
      // not empty: a test left a cgroup in it, which the check that follows reports
    }
  }
}

/**
 * `nft list ruleset`, line by line. No nft: the suite cannot check step 12's rules, and
 * says so (the step's own tests fail, saying why).
 */
function nftRuleset(): string[] {
  try {
    return execFileSync('nft', ['list', 'ruleset'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n');
  } catch (error) {
    return [`(no ruleset: ${(error as Error).message.split('\n')[0]})`];
  }
}

/** `marker` is the RUN_MARKER=value pair that this run's sandboxes carry. */
export function snapshotMachine(marker: string): Snapshot {
  return {
    hostname: [readFileSync('/proc/sys/kernel/hostname', 'utf8').trim()],
    mounts: lines(readFileSync('/proc/self/mounts', 'utf8')),
    'processes left by the tests': ourProcesses(marker),
    'System V IPC objects': lines(execFileSync('ipcs', ['-a'], { encoding: 'utf8' })),
    'network interfaces': readdirSync('/sys/class/net').sort(),
    // Step 12's bridge network: addresses, the forwarding switch, and nftables rules.
    'IPv4 addresses': lines(execFileSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8' })),
    'IPv4 forwarding': [readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()],
    'nftables ruleset': nftRuleset(),
    'cgroups made by the tests': containerCgroups(),
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
