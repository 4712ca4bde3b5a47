// The mount namespace's two jobs in a container: keep its mounts to itself, and make
// the root filesystem the whole tree (pivot_root), so there is no "outside" left to
// climb back to, as there is after a chroot.
import { flushCompileCache } from 'node:module';
import { mount, MNT_DETACH, MS_BIND, MS_PRIVATE, MS_REC, pivotRoot, umount2 } from './libc.ts';

/**
 * Cut every propagation link between this mount namespace and the host's.
 * A new mount namespace starts with copies of the host's mounts, and where the host's
 * mounts are "shared" (systemd makes / shared), the copies are *peers* of them: a
 * mount made under one appears under the other. MS_PRIVATE, recursively, ends that.
 */
export function makeMountsPrivate(): void {
  mount(null, '/', null, MS_REC | MS_PRIVATE);
}

/**
 * Make `root` the `/` of this mount namespace and unmount the host's whole tree.
 * chroot only changes where one process's `/` is; pivot_root changes what the
 * namespace's `/` *is*, and then the old one is gone for every process in it.
 */
export function pivotInto(root: string): void {
  // Node saves what it compiled (NODE_COMPILE_CACHE, see compile-cache.ts) as it exits,
  // when its cache is out of sight: now, then.
  flushCompileCache();
  // pivot_root wants the new root to be a mount point: bind-mount it onto itself.
  mount(root, root, null, MS_BIND | MS_REC);
  process.chdir(root);
  // pivot_root(".", "."): the new root becomes `/`, and the old root is mounted on top
  // of it, at the same place. No "put_old" directory is needed (and none is left
  // behind in the root filesystem), so the container needs no write access to it.
  pivotRoot('.', '.');
  // Peel the old root off, with every mount under it. MNT_DETACH: lazily, since the
  // host's mounts may be busy.
  umount2('.', MNT_DETACH);
  process.chdir('/');
}
