// npm run image -- import <name> <file.tar>   make an image from a tarball (any
//                                             compression tar knows: .tar.gz, .tar.xz...)
// npm run image -- list                       the images, and the writable layers kept
// npm run image -- rm <name>                  delete an image
// An image is a directory (see shared/images.ts); step 10 runs containers on it:
//   sudo npm run step:10 -- --image <name> sh
// A tarball of a root filesystem: `docker export $(docker create alpine) > alpine.tar`,
// or the minirootfs tarballs of Alpine Linux.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { EXIT_USAGE } from '../shared/errors.ts';
import { fail as die } from '../shared/exit.ts';
import { BUSYBOX, imagesDir, isImageName, listImages, prepareImagesDir, removeDeviceNodes } from '../shared/images.ts';
import { listLayers } from '../shared/layer.ts';

const USAGE = 'usage: npm run image -- import <name> <file.tar> | list | rm <name>';
const [verb, ...args] = process.argv.slice(2);

try {
  if (verb === 'import' && args.length === 2) importImage(args[0]!, args[1]!);
  else if (verb === 'list' && args.length === 0) list();
  else if (verb === 'rm' && args.length === 1) remove(args[0]!);
  else die(USAGE, EXIT_USAGE);
} catch (error) {
  // e.g. EACCES: not root ("sudo npm run image -- ...")
  die(`image ${verb}: ${error instanceof Error ? error.message : error}`, 1);
}

function checkName(name: string): void {
  if (!isImageName(name)) die(`bad image name "${name}": lowercase letters, digits, "_", "." and "-"`, EXIT_USAGE);
  if (name === BUSYBOX) die(`${BUSYBOX} is the root filesystem npm run rootfs builds: pick another name`, EXIT_USAGE);
}

function importImage(name: string, tarball: string): void {
  checkName(name);
  const dir = `${imagesDir()}/${name}`;
  if (existsSync(dir)) die(`image ${name} exists already (npm run image -- rm ${name} first)`, 1);
  if (!existsSync(tarball)) die(`${tarball}: no such file`, 1);
  // Unpack beside the final place, then rename: a container never sees half an image,
  // and an import that fails leaves nothing behind.
  const partial = `${imagesDir()}/.import-${name}-${process.pid}`;
  prepareImagesDir();
  mkdirSync(partial, { mode: 0o755 });
  // As root, tar keeps the files' owners and modes: the container sees them as packed.
  const tar = spawnSync('tar', ['--extract', '--file', tarball, '--directory', partial, '--numeric-owner'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (tar.status !== 0) {
    rmSync(partial, { recursive: true, force: true });
    const reason = tar.error?.message ?? tar.stderr.trim().split('\n')[0];
    die(`import ${tarball} failed: ${reason}`, 1);
  }
  const devices = removeDeviceNodes(partial);
  if (devices > 0)
    console.error(
      `${devices} device node(s) in ${tarball} left out: a container gets none of the host's devices but null, zero, full, random, urandom and tty`,
    );
  renameSync(partial, dir);
  console.error(`Imported ${tarball} as image ${name} (${dir})`);
}

function list(): void {
  // writeSync, not console.log: a write that fails (a full disk) is an error, not silence.
  const lines = [
    ...listImages().map(({ name, dir }) => `${name}\t${dir}`),
    ...listLayers().map(({ id, image, kept }) => `(writable layer ${id}, on ${image}${kept ? ', kept' : ''})`),
  ];
  writeSync(1, lines.map((line) => `${line}\n`).join(''));
}

function remove(name: string): void {
  checkName(name);
  const dir = `${imagesDir()}/${name}`;
  if (!existsSync(dir)) die(`no image named ${name}`, 1);
  // A container running on it (or a kept layer) would lose its bottom half.
  const users = listLayers().filter(({ image }) => image === dir);
  if (users.length > 0) die(`image ${name} is used by the writable layer ${users.map(({ id }) => id).join(', ')}`, 1);
  rmSync(dir, { recursive: true, force: true });
  console.error(`Removed image ${name}`);
}
