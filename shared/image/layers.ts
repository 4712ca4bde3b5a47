// The layers of pulled images, each unpacked once and shared by every image that has it:
//   <state>/images/.layers/<12 hex>/       the layer's files: an overlayfs lower directory
//   <state>/images/.layers/<12 hex>.json   {"digest": "sha256:<64 hex>", "size": <bytes>}
//   <state>/images/.layers/.partial-<12 hex>-<pid>/   one being unpacked (npm run clean)
// A layer is named by the first 12 hex digits of its digest, and mounted by that name
// from this directory: fsconfig(2) takes a mount option of at most 255 bytes, and
// lowerdir lists every layer (see steps/10-overlay/main.ts). Its .json has the full
// digest, checked whenever the short name is used.
// Inside images/, root's only: layers hold setuid programs too (shared/image/store.ts).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isAlive } from '../runtime/liveness.ts';
import { layerName, layersDir } from './store.ts';

/** Whether layer `digest` is unpacked here (and not another one with the same 12 digits). */
export function hasLayer(digest: string): boolean {
  const file = `${layersDir()}/${layerName(digest)}.json`;
  if (!existsSync(file)) return false;
  const stored = JSON.parse(readFileSync(file, 'utf8')).digest;
  if (stored !== digest) throw new Error(`layer ${digest} shares its 12 first digits with ${stored}: rm the image that has it`);
  return true;
}

export function layerSize(digest: string): number {
  return JSON.parse(readFileSync(`${layersDir()}/${layerName(digest)}.json`, 'utf8')).size;
}

/** An empty directory to unpack layer `digest` into, beside its final place. */
export function partialLayer(digest: string): string {
  mkdirSync(layersDir(), { recursive: true, mode: 0o700 });
  const dir = `${layersDir()}/.partial-${layerName(digest)}-${process.pid}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { mode: 0o755 });
  return dir;
}

/** The unpacked layer in place: a container never sees half a layer. */
export function commitLayer(digest: string, partial: string, size: number): void {
  renameSync(partial, `${layersDir()}/${layerName(digest)}`);
  writeFileSync(`${layersDir()}/${layerName(digest)}.json`, JSON.stringify({ digest, size }));
}

export function removeLayer(digest: string): void {
  rmSync(`${layersDir()}/${layerName(digest)}.json`, { force: true }); // first: no half layer looks whole
  rmSync(`${layersDir()}/${layerName(digest)}`, { recursive: true, force: true });
}

/** The layers half unpacked by pulls that died (npm run clean), not by one under way. */
export function removePartialLayers(): string[] {
  if (!existsSync(layersDir())) return [];
  const removed: string[] = [];
  for (const name of readdirSync(layersDir())) {
    const pid = /^\.partial-[0-9a-f]+-(\d+)$/.exec(name)?.[1];
    if (!pid || isAlive(pullLock(pid))) continue; // its pull holds the lock
    rmSync(`${layersDir()}/${name}`, { recursive: true, force: true });
    removed.push(`removed half-pulled layer ${layersDir()}/${name}`);
  }
  return removed;
}

/** The liveness lock (shared/runtime/liveness.ts) a pull holds while it unpacks. */
export const pullLock = (pid: number | string) => `pull-${pid}`;
