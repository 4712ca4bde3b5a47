// npm run clean: remove what earlier runs left on this machine, whether a step leaks by
// design (step 05's /proc mount) or a runtime was killed before it could tidy up.
//   sudo npm run clean
// Each cleaner looks for one kind of leftover, removes it, and names what it removed.
// A step that creates a new kind of resource (a cgroup, an overlay's writable layer)
// adds its cleaner to CLEANERS. A cleaner must leave a running container alone.
import { readFileSync } from 'node:fs';
import { CGROUP_PARENT, removeContainerCgroups } from '../shared/cgroups.ts';
import { CONTAINERS_DIR, removeLeftoverLayers } from '../shared/images.ts';
import { MNT_DETACH, umount2 } from '../shared/libc.ts';
import { ROOTFS } from '../shared/rootfs.ts';

export interface Cleaner {
  what: string; // "mounts under /containerfs"
  clean(): string[]; // one line for each thing removed
}

export const CLEANERS: Cleaner[] = [
  // Step 05 mounts /proc in the host's mount table at every run; from step 06 on, the
  // container's mounts live in its own mount namespace and end with it.
  { what: `mounts under ${ROOTFS}`, clean: () => unmountUnder(ROOTFS) },
  // Steps 09-10: the cgroups of runtimes killed before they could remove them (empty
  // ones only: a running container's cgroup has its processes in it).
  { what: 'container cgroups', clean: () => removeContainerCgroups(process.env.CGROUP_PARENT || CGROUP_PARENT) },
  // Step 10: the writable layers of runtimes killed before they could delete them
  // (not those kept with --keep, nor those of running containers).
  { what: `writable layers in ${CONTAINERS_DIR}`, clean: removeLeftoverLayers },
];

/** Unmount everything mounted below `root` (not `root` itself), the newest first. */
export function unmountUnder(root: string): string[] {
  const removed: string[] = [];
  for (const mountPoint of mountPoints().reverse()) {
    if (!mountPoint.startsWith(`${root}/`)) continue;
    // MNT_DETACH: a mount still in use (a shell whose cwd is in it) goes once unused.
    umount2(mountPoint, MNT_DETACH);
    removed.push(`unmounted ${mountPoint}`);
  }
  return removed;
}

/** Every mount point in this mount namespace, in the order they were mounted. */
function mountPoints(): string[] {
  // /proc/self/mountinfo: "36 35 98:0 /mnt1 /mnt/point rw,noatime master:1 - ext3 ..."
  // with spaces and the like in a path written as octal escapes (\040).
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ')[4]!.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))));
}

if (import.meta.main) {
  if (process.getuid?.() !== 0) {
    console.error('Cleaning up mounts and cgroups needs root: sudo npm run clean');
    process.exit(1);
  }
  let failed = false;
  for (const cleaner of CLEANERS) {
    try {
      const removed = cleaner.clean();
      console.log(removed.length ? `${cleaner.what}:\n  ${removed.join('\n  ')}` : `${cleaner.what}: nothing left over`);
    } catch (error) {
      console.error(`${cleaner.what}: ${error instanceof Error ? error.message : error}`);
      failed = true;
    }
  }
  process.exit(failed ? 1 : 0);
}
