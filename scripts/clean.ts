// npm run clean: remove what earlier runs left on this machine, whether a step leaks by
// design (step 05's /proc mount) or a runtime was killed before it could tidy up.
//   sudo npm run clean [-- --kept]     (--kept: the layers kept with --keep too)
// Each cleaner looks for one kind of leftover, removes it, and names what it removed.
// A step that creates a new kind of resource (a cgroup, an overlay's writable layer)
// adds its cleaner to CLEANERS. A cleaner must leave a running container alone.

import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { removeLeftoverCgroups } from '../shared/cgroup/lifecycle.ts';
import { removePartialLayers } from '../shared/image/layers.ts';
import { layersDir } from '../shared/image/store.ts';
import { containersDir, removeLeftoverLayers } from '../shared/image/writable-layer.ts';
import { MNT_DETACH, umount2 } from '../shared/kernel/libc.ts';
import { readMounts } from '../shared/kernel/mountinfo.ts';
import { removeUnusedNetwork } from '../shared/network/cleanup.ts';
import { cgroupParent, rootfsDir, stateDir } from '../shared/runtime/config.ts';
import { removeDeadLocks } from '../shared/runtime/liveness.ts';
import { isStateDir } from '../shared/runtime/state-dir.ts';
import { fail, messageOf, parseCommandLine } from './lib/cli.ts';

const USAGE = 'usage: npm run clean [-- --kept]   (--kept: remove the layers kept with --keep too)';
let keptToo = false; // --kept

interface Cleaner {
  what(): string; // "mounts under /containerfs"
  clean(): string[]; // one line for each thing removed
}

const CLEANERS: Cleaner[] = [
  // Step 05 mounts /proc in the host's mount table at every run; from step 06 on, the
  // container's mounts live in its own mount namespace and end with it.
  { what: () => `mounts under ${rootfsDir()}`, clean: () => unmountUnder(rootfsDir()) },
  // Steps 09+: the cgroups of runtimes killed before they could remove them (empty
  // ones only: a running container's cgroup has its processes in it).
  {
    what: () => `container cgroups (${cgroupParent()})`,
    clean: () => removeLeftoverCgroups(cgroupParent()).map((dir) => `removed ${dir}`),
  },
  // Steps 10+: the writable layers of runtimes killed before they could delete them
  // (not those kept with --keep, nor those of running containers). In the state
  // directory only if it is ours (CONTAINER_STATE may name any: shared/runtime/state-dir.ts).
  { what: () => `writable layers in ${containersDir()}`, clean: () => inStateDir(() => removeLeftoverLayers(keptToo)) },
  // Pulls killed midway (npm run image -- pull): the layers they had half unpacked.
  { what: () => `half-pulled layers in ${layersDir()}`, clean: () => inStateDir(removePartialLayers) },
  // The locks that tell a running container (shared/runtime/liveness.ts), of runtimes killed.
  {
    what: () => 'locks of runtimes that are gone',
    clean: () => inStateDir(() => removeDeadLocks().map((id) => `removed the lock of ${id}`)),
  },
  // Step 13: the DNAT rules of runtimes killed before they could remove them; then, when
  // no container runs, step 12's bridge cfs0 and nftables table (kept until then, as docker0).
  { what: () => 'the bridge network (step 12)', clean: () => removeUnusedNetwork() },
];

/** What `clean` removed from the state directory; nothing from one that is not the runtime's. */
function inStateDir(clean: () => string[]): string[] {
  if (existsSync(stateDir()) && !isStateDir()) return [`(none: ${stateDir()} holds what is not the runtime's; left alone)`];
  return clean();
}

/**
 * Unmount everything mounted below `root` (not `root` itself), the newest first; not
 * while a process has its root there (a step-05 container, chrooted: its /proc).
 */
export function unmountUnder(root: string): string[] {
  const removed: string[] = [];
  const users = processesRootedIn(root);
  if (users.length > 0) return [`(none: ${users.length} process(es) of a running container have their root there)`];
  for (const { mountPoint } of readMounts().reverse()) {
    if (!mountPoint.startsWith(`${root}/`)) continue;
    // MNT_DETACH: a mount still in use (a shell whose cwd is in it) goes once unused.
    umount2(mountPoint, MNT_DETACH);
    removed.push(`unmounted ${mountPoint}`);
  }
  return removed;
}

/** The processes (that we can see) whose root directory is `root`, or below it. */
function processesRootedIn(root: string): string[] {
  return readdirSync('/proc').filter((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    try {
      const theirs = readlinkSync(`/proc/${pid}/root`);
      return theirs === root || theirs.startsWith(`${root}/`);
    } catch {
      return false; // it ended meanwhile
    }
  });
}

if (import.meta.main) {
  keptToo = parseCommandLine(USAGE, { options: { kept: { type: 'boolean', default: false } } }).values.kept;
  if (process.getuid?.() !== 0) fail('Cleaning up mounts and cgroups needs root: sudo npm run clean');
  try {
    // Every setting first: a bad one stops clean before it touches anything.
    rootfsDir();
    containersDir();
    cgroupParent();
  } catch (error) {
    fail(`clean: ${messageOf(error)}`);
  }
  let failed = false;
  for (const cleaner of CLEANERS) {
    try {
      const what = cleaner.what();
      const removed = cleaner.clean();
      console.log(removed.length ? `${what}:\n  ${removed.join('\n  ')}` : `${what}: nothing left over`);
    } catch (error) {
      console.error(`clean: ${messageOf(error)}`); // and on to the next cleaner
      failed = true;
    }
  }
  if (failed) fail(''); // each failure said already, in its line
}
