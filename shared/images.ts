// Images: root filesystems that containers start from, never written to once made.
// - `busybox`, the root filesystem `npm run rootfs` builds ($CONTAINERFS, /containerfs);
// - any other name, made from a tarball: `npm run image -- import <name> <file.tar>`,
//   into <state>/images/<name>.
import { existsSync, readdirSync } from 'node:fs';
import { rootfsDir, stateDir } from './config.ts';
import { RuntimeError } from './errors.ts';
import { ensureRootfs } from './rootfs.ts';

/** The image that needs no import: the root filesystem of the earlier steps. */
export const BUSYBOX = 'busybox';

// Names become paths and overlayfs mount options: no "/", ",", ":" or spaces.
const NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

export function isImageName(name: string): boolean {
  return NAME.test(name);
}

export const imagesDir = () => `${stateDir()}/images`;

/** The directory of image `name`; the busybox one is built on first use. */
export function imageDir(name: string): string {
  if (name === BUSYBOX) return ensureRootfs();
  const dir = `${imagesDir()}/${name}`;
  if (!isImageName(name) || !existsSync(dir)) {
    throw new RuntimeError(
      `no image named ${name}: import one with npm run image -- import ${name} <file.tar> (npm run image -- list shows them)`,
    );
  }
  return dir;
}

/** The images there are, by name: busybox first, if it is built. */
export function listImages(): { name: string; dir: string }[] {
  const imported = existsSync(imagesDir()) ? readdirSync(imagesDir()).filter(isImageName) : [];
  const busybox = existsSync(`${rootfsDir()}/bin/busybox`) ? [{ name: BUSYBOX, dir: rootfsDir() }] : [];
  return [...busybox, ...imported.sort().map((name) => ({ name, dir: `${imagesDir()}/${name}` }))];
}
