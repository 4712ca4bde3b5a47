// npm run image -- pull <reference>: the requests, in order (for Docker Hub, `alpine`):
//   GET https://registry-1.docker.io/v2/library/alpine/manifests/latest  -> 401, WWW-Authenticate: Bearer ...
//   GET https://auth.docker.io/token?service=registry.docker.io&scope=repository:library/alpine:pull -> a token
//   GET .../manifests/latest (Bearer token, Accept: the four formats)   -> the index: one manifest per platform
//   GET .../manifests/sha256:<linux/amd64's>                            -> the manifest
//   GET .../blobs/sha256:<config>                                       -> the config
//   GET .../blobs/sha256:<layer>, for each layer not here yet           -> 307 to a CDN, then the layer
// A registry without authentication skips the 401 and the token; one with Basic
// authentication answers the 401 with `Basic realm=...`, and the user and password go
// with every request after it.
// Each layer is unpacked as it downloads (shared/image/unpack.ts), beside its place, then
// renamed into it once its digest and size proved right. A pull that fails leaves no
// image and none of the layers it began.
import { closeSync, rmSync } from 'node:fs';
import { holdLiveness } from '../../runtime/liveness.ts';
import { printable } from '../../runtime/quote.ts';
import type { ImageConfig } from '../config.ts';
import { decompressed } from '../decompress.ts';
import { commitLayer, hasLayer, partialLayer, pullLock, removeLayer } from '../layers.ts';
import type { Reference } from '../reference.ts';
import { lockStore, type PulledImage, prepareImagesDir, pulledImages, writeRecord } from '../store.ts';
import { readTar } from '../tar.ts';
import { Unpacker } from '../unpack.ts';
import { blobChunks, readBlob } from './blobs.ts';
import { Registry, RegistryError, type RegistryOptions } from './http.ts';
import { type Descriptor, fetchManifest } from './manifest.ts';
import { Progress } from './progress.ts';

/** Pull `reference` into the image store; returns the image as recorded. */
export async function pull(reference: Reference, options: RegistryOptions): Promise<PulledImage> {
  const registry = new Registry(reference.registry, options);
  const manifest = await fetchManifest(registry, reference);
  const configBlob = await readBlob(registry, reference.repository, manifest.config, options.timeoutMs);
  const config = (JSON.parse(configBlob.toString('utf8')).config ?? {}) as ImageConfig;
  prepareImagesDir();
  const store = lockStore(); // one pull (import, rm) changes the store at a time
  holdLiveness(pullLock(process.pid)); // npm run clean leaves our half-unpacked layers alone
  const progress = new Progress();
  const made: string[] = [];
  try {
    for (const layer of manifest.layers) {
      const name = layer.digest.slice(7, 19);
      if (hasLayer(layer.digest)) {
        progress.done(name, 'already here');
        continue;
      }
      const notes = await unpackLayer(registry, reference.repository, layer, options.timeoutMs, progress);
      made.push(layer.digest);
      progress.done(name, 'done');
      if (notes.length > 0)
        process.stderr.write(
          `layer ${layer.digest}: ${notes.length} device node(s) left out (${notes.slice(0, 3).map(printable).join(', ')})\n`,
        );
    }
    return record(reference, manifest.digest, manifest.layers, config);
  } catch (error) {
    for (const digest of made) removeLayer(digest);
    throw error;
  } finally {
    closeSync(store);
  }
}

/** Download layer `blob` and unpack it as it comes; returns the device nodes left out. */
async function unpackLayer(registry: Registry, repository: string, blob: Descriptor, timeoutMs: number, progress: Progress) {
  const name = blob.digest.slice(7, 19);
  const dir = partialLayer(blob.digest);
  try {
    const chunks = blobChunks(registry, repository, blob, timeoutMs, (received) => progress.update(name, received, blob.size));
    const unpacker = new Unpacker(dir);
    const notes = await unpacker.unpack(readTar(decompressed(chunks)));
    commitLayer(blob.digest, dir, unpacker.bytes);
    return notes.devices;
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    if (error instanceof RegistryError) throw error;
    // gzip's or tar's complaint comes before the digest's: the bytes are wrong, whatever the cause
    throw new RegistryError(`layer ${blob.digest}: ${error instanceof Error ? error.message : error}`);
  }
}

/** The image's record, with this reference among its names (atomically: a rename). */
function record(reference: Reference, digest: string, layers: Descriptor[], config: ImageConfig): PulledImage {
  const existing = pulledImages().find((image) => image.digest === digest);
  // A tag names one image: another image that had it loses it.
  for (const other of pulledImages()) {
    if (other.digest !== digest && other.references.includes(reference.canonical)) {
      writeRecord({ ...other, references: other.references.filter((name) => name !== reference.canonical) });
    }
  }
  const references = [...new Set([...(existing?.references ?? []), reference.canonical])];
  const image = { references, digest, layers: layers.map((layer) => layer.digest), config };
  writeRecord(image);
  return image;
}
