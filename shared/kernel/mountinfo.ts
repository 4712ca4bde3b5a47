// The mount table, as the kernel lists it in /proc/self/mountinfo, one mount a line:
//   36 35 98:0 /mnt1 /mnt/point rw,noatime master:1 - ext3 /dev/root rw,errors=continue
// the mount point in field 5; after " - ": the filesystem type, the source, and the
// superblock's options (for a cgroup v1 tree, the controllers it holds).
import { readFileSync } from 'node:fs';

export interface MountEntry {
  mountPoint: string;
  type: string;
  source: string;
  options: string[]; // the superblock's: "rw", "memory", ...
}

/** mountinfo writes a space in a path as \040 (and tab, newline, backslash likewise). */
function unescapePath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

export function parseMountinfo(text: string): MountEntry[] {
  return text.split('\n').flatMap((line) => {
    const [mount, fs] = line.split(' - ');
    const mountPoint = mount?.split(' ')[4];
    if (!mountPoint || !fs) return [];
    const [type = '', source = '', options = ''] = fs.split(' ');
    return [{ mountPoint: unescapePath(mountPoint), type, source: unescapePath(source), options: options.split(',') }];
  });
}

/** This mount namespace's mounts, in the order they were made. */
export function readMounts(): MountEntry[] {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
}
