// The runtime's settings from the environment, each checked before first use, so that a
// bad one is a one-line error (status 125), never a stack trace or a wrong directory:
//   CONTAINERFS      the busybox root filesystem          (default /containerfs)
//   CONTAINER_STATE  images and writable layers (step 10+) (default /var/lib/container-from-scratch)
//   CGROUP_PARENT    where container cgroups go, under each cgroup tree's root (step 09+),
//                    like docker's --cgroup-parent        (default container-from-scratch)
import { resolve } from 'node:path';
import { RuntimeError } from './errors.ts';

export const DEFAULT_CGROUP_PARENT = 'container-from-scratch';

// Directories the runtime must never build in, unmount under (npm run clean) or delete
// below: the machine's own, and the kernel's pseudo filesystems with all below them.
const SYSTEM = ['/', '/bin', '/boot', '/etc', '/home', '/lib', '/root', '/run', '/sbin', '/tmp', '/usr', '/var'];
const KERNEL = ['/proc', '/sys', '/dev'];

/** A directory, as an absolute path (a relative one is taken from the current directory). */
export function checkDirectory(name: string, value: string): string {
  const path = resolve(value);
  const system = [...SYSTEM, ...KERNEL].find((dir) => path === dir) ?? KERNEL.find((dir) => path.startsWith(`${dir}/`));
  if (system) throw new RuntimeError(`${name}=${value}: a system directory (${system}): choose one of its own`);
  // It ends up in mount options (overlayfs: lowerdir=a:b,upperdir=...), which these would cut.
  if (/[\s,:\\]/.test(path)) throw new RuntimeError(`${name}=${value}: no spaces, commas, colons or backslashes, please`);
  return path;
}

/** A relative cgroup path of plain names: "container-from-scratch/tests". */
export function checkCgroupParent(value: string): string {
  const segments = value.replace(/\/+$/, '').split('/'); // "/abs" has an empty first one
  if (!segments.every((segment) => /^[\w-][\w.-]*$/.test(segment) && segment !== '..')) {
    throw new RuntimeError(
      `CGROUP_PARENT=${value}: not a cgroup path of plain names under the tree's root (like ${DEFAULT_CGROUP_PARENT}/mine)`,
    );
  }
  return segments.join('/');
}

const memo = new Map<string, string>();
function setting(name: string, fallback: string, check: (value: string) => string): string {
  if (!memo.has(name)) memo.set(name, check(process.env[name] || fallback));
  return memo.get(name)!;
}

export const rootfsDir = () => setting('CONTAINERFS', '/containerfs', (v) => checkDirectory('CONTAINERFS', v));
export const stateDir = () => setting('CONTAINER_STATE', '/var/lib/container-from-scratch', (v) => checkDirectory('CONTAINER_STATE', v));
export const cgroupParent = () => setting('CGROUP_PARENT', DEFAULT_CGROUP_PARENT, checkCgroupParent);
