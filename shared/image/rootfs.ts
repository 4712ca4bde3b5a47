// Where the container's root filesystem lives: /containerfs as in the article, or
// wherever $CONTAINERFS says.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { fsError } from '../kernel/libc.ts';
import { rootfsDir } from '../runtime/config.ts';
import { RuntimeError } from '../runtime/errors.ts';
import { buildRootfs } from './rootfs-build.ts';

/** The root filesystem's path; built from the host's busybox the first time. */
export function ensureRootfs(): string {
  const root = rootfsDir();
  // escape-chroot came with step 06: a root filesystem built before it is completed.
  if (existsSync(`${root}/bin/busybox`) && existsSync(`${root}/bin/escape-chroot`)) return root;
  const there = statSync(root, { throwIfNoEntry: false });
  if (there && !there.isDirectory()) throw new RuntimeError(`CONTAINERFS=${root}: not a directory`);
  if (there) {
    try {
      accessSync(root, constants.W_OK);
    } catch (error) {
      const why = (fsError(`CONTAINERFS=${root}: no root filesystem in it, and it cannot be written`, error) as Error).message;
      throw new RuntimeError(`${why}: build one where it can be (npm run rootfs)`);
    }
  }
  process.stderr.write(`No root filesystem at ${root} yet: building it (npm run rootfs)\n`);
  buildRootfs(root); // on failure, a RuntimeError the step reports in one line
  return root;
}
