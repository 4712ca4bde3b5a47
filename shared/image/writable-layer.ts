// A container's writable layer, <state>/containers/<id>/:
//   image -> the image's directory    upper/  what the container wrote
//   work/   overlayfs's scratch space  rootfs/ where the two are mounted as one
// overlayfs shows upper/ on top of the image: a file the container changes is first
// copied up into upper/, a file it deletes is hidden by a "whiteout" in upper/. The
// image itself is only read, so starting a container copies nothing. (The overlay
// mount itself is step 10's lesson: see its main.ts.)
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { resolve } from 'node:path';
import { fsError } from '../kernel/libc.ts';
import { stateDir } from '../runtime/config.ts';
import { atExit } from '../runtime/exit.ts';
import { holdLiveness, isAlive } from '../runtime/liveness.ts';
import type { Image } from './store.ts';

export const containersDir = () => `${stateDir()}/containers`;

export interface Layer {
  dir: string;
  upper: string;
  work: string;
  rootfs: string; // where image + upper/ show as one tree: the container's /
}

function layerOf(id: string): Layer {
  const dir = `${containersDir()}/${id}`;
  return { dir, upper: `${dir}/upper`, work: `${dir}/work`, rootfs: `${dir}/rootfs` };
}

/**
 * Make the empty writable layer of container `id` over `image`; it is
 * deleted when the runtime ends, unless `keep` (--keep). `gid`: the container's root
 * group on the host, the one other than root that may pass into the layer.
 */
export function createLayer(id: string, image: Image, keep: boolean, gid: number): Layer {
  const layer = layerOf(id);
  holdLiveness(id); // npm run clean leaves the layer alone while its runtime lives
  atExit(() => (keep && existsSync(layer.rootfs) ? keepLayer(layer) : removeLayer(layer)));
  try {
    // 0710 root:<its root group>, as docker's data directories: the container's root
    // (an unprivileged user on the host since step 08) must pass through to rootfs/,
    // and no one else: overlayfs copies an image's file up into upper/ with its owner
    // and mode, setuid-root included, which a host user could otherwise run.
    mkdirSync(containersDir(), { recursive: true, mode: 0o711 }); // in the state directory, made by holdLiveness()
    chmodSync(containersDir(), 0o711);
    mkdirSync(layer.dir, { mode: 0o700 });
    chownSync(layer.dir, 0, gid);
    chmodSync(layer.dir, 0o710); // mkdir's mode went through the umask
    mkdirSync(layer.work, { mode: 0o700 });
    // The top of upper/ is the top of the merged tree: it must look like the image's /.
    const lowers = image.layers.map((lower) => resolve(image.store, lower)); // top first
    const top = statSync(lowers[0]!);
    mkdirSync(layer.upper);
    chmodSync(layer.upper, top.mode & 0o7777);
    chownSync(layer.upper, top.uid, top.gid);
    // /proc, where the container mounts its own: an image without one gets it here.
    if (!lowers.some((lower) => existsSync(`${lower}/proc`))) mkdirSync(`${layer.upper}/proc`, { mode: 0o555 });
    mkdirSync(layer.rootfs, { mode: 0o755 });
    symlinkSync(image.source, `${layer.dir}/image`);
  } catch (error) {
    throw fsError(`make the writable layer ${layer.dir}`, error);
  }
  return layer;
}

/** Keep the layer after exit (--keep): say where, and mark it for `npm run clean`. */
function keepLayer(layer: Layer): void {
  writeFileSync(`${layer.dir}/kept`, '');
  process.stderr.write(`writable layer kept: ${layer.dir}\n`);
}

/** Delete the layer: upper/ with everything the container wrote. Never throws (runs at exit). */
function removeLayer(layer: Layer): void {
  try {
    rmSync(layer.dir, { recursive: true, force: true });
  } catch (error) {
    process.stderr.write(`writable layer not removed: ${(fsError(`rm ${layer.dir}`, error) as Error).message}\n`);
  }
}

/** The writable layers there are (kept ones, or left by a runtime that was killed). */
export function listLayers(): { id: string; image: string; kept: boolean }[] {
  if (!existsSync(containersDir())) return [];
  return readdirSync(containersDir()).map((id) => {
    const { dir } = layerOf(id);
    let image = '?';
    try {
      image = readlinkSync(`${dir}/image`);
    } catch {
      // half made: no link yet
    }
    return { id, image, kept: existsSync(`${dir}/kept`) };
  });
}

/**
 * Delete the writable layers of runtimes that were killed (SIGKILL leaves no time to
 * clean up), never one whose runtime still runs; those kept with --keep too if `kept`.
 */
export function removeLeftoverLayers(alsoKept = false): string[] {
  const removed: string[] = [];
  for (const { id, kept } of listLayers()) {
    if ((kept && !alsoKept) || isAlive(id)) continue; // kept, or its container runs
    const layer = layerOf(id);
    removeLayer(layer);
    removed.push(`removed writable layer ${layer.dir}`);
  }
  return removed;
}
