// Where the container's root filesystem lives: /containerfs as in the article, or
// wherever $CONTAINERFS says.
import { existsSync } from 'node:fs';
import { rootfsDir } from './config.ts';
import { buildRootfs } from './rootfs-build.ts';

/** The root filesystem's path; built from the host's busybox the first time. */
export function ensureRootfs(): string {
  const root = rootfsDir();
  // escape-chroot came with step 06: a root filesystem built before it is completed.
  if (existsSync(`${root}/bin/busybox`) && existsSync(`${root}/bin/escape-chroot`)) return root;
  process.stderr.write(`No root filesystem at ${root} yet: building it (npm run rootfs)\n`);
  buildRootfs(root); // on failure, a RuntimeError the step reports in one line
  return root;
}
