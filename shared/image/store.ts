// Images: root filesystems that containers start from, never written to once made.
// - `busybox`, the root filesystem `npm run rootfs` builds ($CONTAINERFS, /containerfs);
// - a name of your choice, made from a tarball: `npm run image -- import <name> <file.tar>`,
//   into <state>/images/<name>;
// - a reference (alpine, 127.0.0.1:5000/test/app:v1), pulled from a registry:
//   `npm run image -- pull <reference>`. Its layers are in <state>/images/.layers
//   (shared/image/layers.ts), its manifest's digest, layers and config in
//   <state>/images/.pulled/<digest>.json.
// A busybox or imported image is one directory; a pulled one, a stack of layers.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { waitForLock } from '../kernel/locks.ts';
import { rootfsDir, stateDir } from '../runtime/config.ts';
import { RuntimeError } from '../runtime/errors.ts';
import { makeStateDir } from '../runtime/state-dir.ts';
import type { ImageConfig } from './config.ts';
import { parseReference } from './reference.ts';
import { ensureRootfs } from './rootfs.ts';

/** The image that needs no import: the root filesystem of the earlier steps. */
export const BUSYBOX = 'busybox';

// Names become paths and overlayfs mount options: no "/", ",", ":" or spaces.
const NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

export function isImageName(name: string): boolean {
  return NAME.test(name);
}

export const imagesDir = () => `${stateDir()}/images`;
const pulledDir = () => `${imagesDir()}/.pulled`;

/** A pulled image, as its record in .pulled/ holds it. */
export interface PulledImage {
  references: string[]; // canonical: docker.io/library/alpine:latest
  digest: string; // its manifest's
  layers: string[]; // their digests, bottom first, as in the manifest
  config: ImageConfig;
}

/** An image as a container starts from it. */
export interface Image {
  source: string; // its directory, or its record: what a writable layer's `image` links to
  layers: string[]; // overlayfs's lower directories, top first
  store: string; // the directory `layers` are named from (see steps/10-overlay/main.ts)
  config: ImageConfig | undefined; // a pulled image's
}

/**
 * The image store: root's only (0700). An image holds what its maker put in it, setuid
 * programs included: a host user who could reach one could run it, as its owner, root.
 * (The containers reach their image through the overlay, which the runtime mounts.)
 * The state directory above it is 0711: containers/<id>/rootfs must stay reachable.
 */
export function prepareImagesDir(): void {
  makeStateDir(); // 0711, and ours: shared/runtime/state-dir.ts
  mkdirSync(imagesDir(), { recursive: true, mode: 0o700 });
  chmodSync(imagesDir(), 0o700); // made by an older version, or through the umask
}

/**
 * The store's lock, held by a pull, an import or an rm while it changes the store: two
 * pulls of one image would unpack the same layer twice, and a pull that fails, removing
 * the layers it made, could take one that another pull has just found and recorded.
 * Close the descriptor to let go (shared/kernel/locks.ts).
 */
export function lockStore(): number {
  const wait = () => process.stderr.write('Waiting for another pull, import or rm to finish\n');
  return waitForLock(`${imagesDir()}/.lock`, wait);
}

export const layersDir = () => `${imagesDir()}/.layers`;

/** A layer's short name, its directory in layersDir(): 12 hex digits of its digest. */
export const layerName = (digest: string) => digest.replace(/^sha256:/, '').slice(0, 12);

// fsconfig(2) takes a mount option of at most 255 bytes: 19 layers of 12 digits and a ":".
const MAX_LOWERDIR = 255;

const recordOf = (digest: string) => `${pulledDir()}/${digest.replace(/^sha256:/, '')}.json`;

/** Write a pulled image's record, atomically: a rename. */
export function writeRecord({ references, digest, layers, config }: PulledImage): void {
  mkdirSync(pulledDir(), { recursive: true, mode: 0o700 });
  const file = recordOf(digest);
  writeFileSync(`${file}.${process.pid}`, `${JSON.stringify({ references, digest, layers, config }, null, 2)}\n`);
  renameSync(`${file}.${process.pid}`, file);
}

/** The pulled images, each with the path of its record. */
export function pulledImages(): (PulledImage & { file: string })[] {
  if (!existsSync(pulledDir())) return [];
  return readdirSync(pulledDir())
    .filter((name) => /^[0-9a-f]{64}\.json$/.test(name))
    .map((name) => ({ ...JSON.parse(readFileSync(`${pulledDir()}/${name}`, 'utf8')), file: `${pulledDir()}/${name}` }));
}

/** The image called `name`: busybox (built on first use), an imported one, or a pulled one. */
export function openImage(name: string): Image {
  if (name === BUSYBOX) return { source: ensureRootfs(), layers: [rootfsDir()], store: '/', config: undefined };
  const dir = `${imagesDir()}/${name}`;
  if (isImageName(name) && existsSync(dir)) return { source: dir, layers: [dir], store: '/', config: undefined };
  const canonical = parseReference(name)?.canonical; // alpine: docker.io/library/alpine:latest
  const pulled = pulledImages().find(({ references }) => canonical && references.includes(canonical));
  if (!pulled) {
    throw new RuntimeError(
      `no image named ${name}: pull it (npm run image -- pull ${name}) or import one (npm run image -- import <name> <file.tar>); npm run image -- list shows them`,
    );
  }
  const layers = pulled.layers.map(layerName).reverse(); // top first
  if (layers.join(':').length > MAX_LOWERDIR)
    throw new RuntimeError(`${name} has ${layers.length} layers: overlayfs's lowerdir option holds at most 19 here`);
  return { source: pulled.file, layers, store: layersDir(), config: pulled.config };
}

/** The busybox and imported images there are, by name: busybox first, if it is built. */
export function listImages(): { name: string; dir: string }[] {
  const imported = existsSync(imagesDir()) ? readdirSync(imagesDir()).filter(isImageName) : [];
  const busybox = existsSync(`${rootfsDir()}/bin/busybox`) ? [{ name: BUSYBOX, dir: rootfsDir() }] : [];
  return [...busybox, ...imported.sort().map((name) => ({ name, dir: `${imagesDir()}/${name}` }))];
}
