// Images: root filesystems that containers start from, never written to once made.
// - `busybox`, the root filesystem `npm run rootfs` builds ($CONTAINERFS, /containerfs);
// - any other name, made from a tarball: `npm run image -- import <name> <file.tar>`,
//   into <state>/images/<name>.
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
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

/**
 * The image store: root's only (0700). An image holds what its maker put in it, setuid
 * programs included: a host user who could reach one could run it, as its owner, root.
 * (The containers reach their image through the overlay, which the runtime mounts.)
 * The state directory above it is 0711: containers/<id>/rootfs must stay reachable.
 */
export function prepareImagesDir(): void {
  mkdirSync(imagesDir(), { recursive: true, mode: 0o700 });
  chmodSync(stateDir(), 0o711);
  chmodSync(imagesDir(), 0o700); // made by an older version, or through the umask
}

// The devices any container may have, as docker allows them: null, zero, full, random,
// urandom, tty (major:minor).
const HARMLESS_DEVICES = new Set(['1:3', '1:5', '1:7', '1:8', '1:9', '5:0']);

/**
 * Delete the device nodes under `dir` but the harmless ones: a tarball's /dev/sda or
 * /dev/mem, in an overlay that root mounts on the host, would open the host's disk or
 * memory to the container's root. Returns how many went.
 */
export function removeDeviceNodes(dir: string): number {
  let removed = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isBlockDevice() && !entry.isCharacterDevice()) continue;
    const path = `${entry.parentPath}/${entry.name}`;
    const { rdev } = statSync(path);
    const device = `${(rdev >> 8) & 0xfff}:${(rdev & 0xff) | ((rdev >> 12) & 0xfff00)}`;
    if (entry.isCharacterDevice() && HARMLESS_DEVICES.has(device)) continue;
    rmSync(path);
    removed++;
  }
  return removed;
}

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
