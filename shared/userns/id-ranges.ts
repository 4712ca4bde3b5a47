// Who root in the container is on the host (steps 08+). Started by a normal user
// (rootless): that user, the one ID the kernel lets it map. Started by root: a range of
// 65536 host IDs of the container's own, as podman's --userns=auto gives, never root and
// never an ID another process has: then no other process on the host (a "nobody" daemon,
// say) is the container's root, to nsenter it, read its files through /proc/<pid>/root,
// or reach into its start-up. Range n is [START + n * 65536, START + (n + 1) * 65536);
// a runtime holds range n's lock for as long as it lives (shared/kernel/locks.ts: the
// kernel drops it when the process dies). The locks are the machine's, in /run, since
// the IDs are: one container per range, whatever its state directory. A lock file is
// never removed (a free range is one whose lock nobody holds): removing one while
// another runtime has just opened it would let two runtimes hold "the" lock.
import { readFileSync } from 'node:fs';
import { holdLock } from '../kernel/locks.ts';
import { RuntimeError } from '../runtime/errors.ts';

export interface HostIds {
  uid: number; // root in the container is this uid on the host
  gid: number;
  count: number; // IDs mapped: 0..count-1 inside are uid..uid+count-1 outside
}

const RANGE = 65536;
const RANGES = 1024;
const LOCKS = '/run/container-from-scratch/id-ranges';
// /etc/subuid's way to give the runtime its IDs ("container-from-scratch:START:COUNT"),
// else the runtime's own default, far above any user's.
const OWNER = 'container-from-scratch';
const DEFAULT_START = 1_000_000_000;

/** Where our ranges start: /etc/subuid's (or subgid's) line for us, else the default. */
export function rangeStart(file: string, text = readOrEmpty(file)): number {
  const line = text.split('\n').find((entry) => entry.startsWith(`${OWNER}:`));
  const [, start, count] = line?.split(':') ?? [];
  if (line === undefined) return DEFAULT_START;
  if (!/^\d+$/.test(start ?? '') || Number(count) < RANGE * RANGES) {
    throw new RuntimeError(`${file}: ${line}: we need ${RANGE * RANGES} IDs (${OWNER}:START:${RANGE * RANGES})`);
  }
  return Number(start);
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The host IDs of the container's root, and how many are mapped. */
export function containerIdsOnHost(): HostIds {
  if (process.getuid!() !== 0) return { uid: process.getuid!(), gid: process.getgid!(), count: 1 };
  const range = claimRange();
  return { uid: rangeStart('/etc/subuid') + range * RANGE, gid: rangeStart('/etc/subgid') + range * RANGE, count: RANGE };
}

/** The first range no living runtime holds, now ours (until we exit: kernel/locks.ts). */
function claimRange(): number {
  for (let range = 0; range < RANGES; range++) if (holdLock(`${LOCKS}/${range}.lock`) !== undefined) return range;
  throw new RuntimeError(`all ${RANGES} ID ranges are in use: ${RANGES} containers run already`);
}
