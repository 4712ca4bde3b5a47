// Where the container's root filesystem lives: /containerfs as in the article, or
// wherever $CONTAINERFS says.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { EXIT_RUNTIME } from './errors.ts';

export const ROOTFS = process.env.CONTAINERFS || '/containerfs';

const buildScript = new URL('../scripts/rootfs.ts', import.meta.url).pathname;

/** The root filesystem's path; built from the host's busybox the first time. */
export function ensureRootfs(): string {
  // escape-chroot came with step 06: a root filesystem built before it is completed.
  if (existsSync(`${ROOTFS}/bin/busybox`) && existsSync(`${ROOTFS}/bin/escape-chroot`)) return ROOTFS;
  process.stderr.write(`No root filesystem at ${ROOTFS} yet: building it (npm run rootfs)\n`);
  const build = spawnSync(process.execPath, [buildScript], { stdio: 'inherit' });
  // The build script has already said what went wrong, in one line.
  if (build.status !== 0) process.exit(EXIT_RUNTIME);
  return ROOTFS;
}
