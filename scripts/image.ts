// npm run image -- pull [--creds user:password] [--insecure] <reference>
//                                             pull an image from a registry: alpine,
//                                             alpine:3.20, 127.0.0.1:5000/test/app:v1...
// npm run image -- import <name> <file.tar>   make an image from a tarball (plain, .gz,
//                                             .zst, .xz or .bz2)
// npm run image -- list                       the images, and the writable layers kept
// npm run image -- rm <name or reference>     delete an image (and a pulled image's
//                                             layers that no other image has)
// Images are described in shared/image/store.ts; step 10 runs containers on them:
//   sudo npm run step:10 -- --image <name or reference> sh
// A tarball of a root filesystem: `docker export $(docker create alpine) > alpine.tar`,
// or the minirootfs tarballs of Alpine Linux.
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { decompressed } from '../shared/image/decompress.ts';
import { hasLayer, layerSize, removeLayer } from '../shared/image/layers.ts';
import { parseReference } from '../shared/image/reference.ts';
import { pull } from '../shared/image/registry/pull.ts';
import {
  BUSYBOX,
  imagesDir,
  isImageName,
  listImages,
  type PulledImage,
  prepareImagesDir,
  pulledImages,
  writeRecord,
} from '../shared/image/store.ts';
import { readTar } from '../shared/image/tar.ts';
import { Unpacker } from '../shared/image/unpack.ts';
import { listLayers } from '../shared/image/writable-layer.ts';
import { fail as die, messageOf, parseCommandLine, usageError } from './lib/cli.ts';

const USAGE =
  'usage: npm run image -- pull [--creds user:password] [--insecure] <reference> | import <name> <file.tar> | list | rm <name or reference>';
const TIMEOUT_MS = 30_000;
const mb = (bytes: number) => `${(bytes / 1_000_000).toFixed(1)} MB`;
const { values, positionals } = parseCommandLine(USAGE, {
  options: { creds: { type: 'string' }, insecure: { type: 'boolean', default: false } },
  allowPositionals: true,
});
const [verb, ...args] = positionals;

try {
  if (verb !== 'pull' && (values.creds !== undefined || values.insecure)) usageError(USAGE); // pull's options only
  if (verb === 'pull' && args.length === 1) await pullImage(args[0]!, values);
  else if (verb === 'import' && args.length === 2) await importImage(args[0]!, args[1]!);
  else if (verb === 'list' && args.length === 0) list();
  else if (verb === 'rm' && args.length === 1) remove(args[0]!);
  else usageError(USAGE);
} catch (error) {
  // e.g. EACCES: not root ("sudo npm run image -- ..."); a registry's refusal
  die(`image ${verb}: ${messageOf(error)}`);
}

async function pullImage(name: string, { creds, insecure }: { creds?: string; insecure: boolean }): Promise<void> {
  if (creds !== undefined && !creds.includes(':')) usageError(`bad option --creds; ${USAGE}`);
  const reference = parseReference(name);
  if (!reference) usageError(`bad reference "${name}": like alpine, alpine:3.20, registry.example:5000/team/app@sha256:<64 hex>`);
  const image = await pull(reference, { creds, insecure, timeoutMs: TIMEOUT_MS });
  console.error(`Pulled ${reference.canonical} (${image.digest}, ${image.layers.length} layer(s))`);
}

function checkName(name: string): void {
  if (!isImageName(name)) usageError(`bad image name "${name}": lowercase letters, digits, "_", "." and "-"`);
  if (name === BUSYBOX) usageError(`${BUSYBOX} is the root filesystem npm run rootfs builds: pick another name`);
}

async function importImage(name: string, tarball: string): Promise<void> {
  checkName(name);
  const dir = `${imagesDir()}/${name}`;
  if (existsSync(dir)) die(`image ${name} exists already (npm run image -- rm ${name} first)`);
  if (!existsSync(tarball)) die(`${tarball}: no such file`);
  // Unpack beside the final place, then rename: a container never sees half an image,
  // and an import that fails leaves nothing behind.
  const partial = `${imagesDir()}/.import-${name}-${process.pid}`;
  prepareImagesDir();
  mkdirSync(partial, { mode: 0o755 });
  let devices: string[];
  try {
    // The same unpacker as a pulled layer's: owners and modes kept, no path outside.
    devices = (await new Unpacker(partial).unpack(readTar(decompressed(createReadStream(tarball))))).devices;
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    die(`import ${tarball} failed: ${messageOf(error)}`);
  }
  if (devices.length > 0)
    console.error(
      `${devices.length} device node(s) in ${tarball} left out: a container gets none of the host's devices but null, zero, full, random, urandom and tty`,
    );
  renameSync(partial, dir);
  console.error(`Imported ${tarball} as image ${name} (${dir})`);
}

function list(): void {
  // writeSync, not console.log: a write that fails (a full disk) is an error, not silence.
  const pulled = pulledImages().flatMap((image) => {
    const size = image.layers.reduce((sum, digest) => sum + (hasLayer(digest) ? layerSize(digest) : 0), 0);
    const facts = `${image.digest.slice(0, 19)}\t${mb(size)}\t${image.layers.length} layer(s)`;
    return (image.references.length ? image.references : ['<none>']).map((reference) => `${reference}\t${facts}`);
  });
  const lines = [
    ...listImages().map(({ name, dir }) => `${name}\t${dir}`),
    ...pulled.sort(),
    ...listLayers().map(({ id, image, kept }) => `(writable layer ${id}, on ${image}${kept ? ', kept' : ''})`),
  ];
  writeSync(1, lines.map((line) => `${line}\n`).join(''));
}

function remove(name: string): void {
  if (name === BUSYBOX || (isImageName(name) && existsSync(`${imagesDir()}/${name}`))) {
    removeImported(name);
    return;
  }
  const canonical = parseReference(name)?.canonical;
  const byDigest = /^sha256:[0-9a-f]{64}$/.test(name) ? name : undefined;
  const image = pulledImages().find((one) => one.digest === byDigest || (canonical && one.references.includes(canonical)));
  if (!image) die(`no image named ${name}`);
  removePulled(image, byDigest ? undefined : canonical);
}

function removeImported(name: string): void {
  checkName(name);
  const dir = `${imagesDir()}/${name}`;
  // A container running on it (or a kept layer) would lose its bottom half.
  const users = listLayers().filter(({ image }) => image === dir);
  if (users.length > 0) die(`image ${name} is used by the writable layer ${users.map(({ id }) => id).join(', ')}`);
  rmSync(dir, { recursive: true, force: true });
  console.error(`Removed image ${name}`);
}

/** Drop one of the image's names; with none left, the image and the layers only it had. */
function removePulled(image: PulledImage & { file: string }, reference: string | undefined): void {
  const references = image.references.filter((one) => one !== reference);
  if (reference && references.length > 0) {
    writeRecord({ ...image, references });
    console.error(`Untagged ${reference}`);
    return;
  }
  const users = listLayers().filter(({ image: on }) => on === image.file);
  if (users.length > 0) die(`image ${image.digest} is used by the writable layer ${users.map(({ id }) => id).join(', ')}`);
  rmSync(image.file);
  const kept = new Set(pulledImages().flatMap((other) => other.layers));
  const gone = image.layers.filter((digest) => !kept.has(digest));
  for (const digest of gone) removeLayer(digest);
  console.error(
    `Removed image ${reference ?? image.digest} (${gone.length} layer(s) removed, ${image.layers.length - gone.length} still used)`,
  );
}
