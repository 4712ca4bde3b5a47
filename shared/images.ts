// Images and writable layers: how many containers share one root filesystem without
// writing into it.
//
// An image is a directory holding a root filesystem, never written to once made:
// - `busybox`, the root filesystem `npm run rootfs` builds ($CONTAINERFS, /containerfs);
// - any other name, made from a tarball: `npm run image -- import <name> <file.tar>`,
//   into <state>/images/<name>.
// Each container gets a writable layer of its own, <state>/containers/<id>/:
//   image -> the image's directory    upper/  what the container wrote
//   work/   overlayfs's scratch space  rootfs/ where the two are mounted as one
// overlayfs shows upper/ on top of the image: a file the container changes is first
// copied up into upper/, a file it deletes is hidden by a "whiteout" in upper/. The
// image itself is only read, so starting a container copies nothing.
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { RuntimeError } from './errors.ts';
import { attachMount, CLONE_FS, CLONE_NEWNS, detachedMount, fsError, setns, unshare } from './libc.ts';
import { ensureRootfs, ROOTFS } from './rootfs.ts';
import type { Flag } from './cli.ts';

/** Images and writable layers live here ($CONTAINER_STATE overrides it). */
export const STATE_DIR = process.env.CONTAINER_STATE || '/var/lib/container-from-scratch';
export const IMAGES_DIR = `${STATE_DIR}/images`;
export const CONTAINERS_DIR = `${STATE_DIR}/containers`;

/** The image that needs no import: the root filesystem of the earlier steps. */
export const BUSYBOX = 'busybox';

// Names become paths and overlayfs mount options: no "/", ",", ":" or spaces.
const NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

/** `run`'s options for the root filesystem. */
export interface ImageOptions {
  image: string;
  keep: boolean;
}

export const IMAGE_FLAGS = {
  image: { example: BUSYBOX, default: BUSYBOX, parse: (text) => (NAME.test(text) ? text : undefined) },
  keep: { default: false, parse: () => true }, // keep the writable layer after exit
} satisfies { [Name in keyof ImageOptions]: Flag<ImageOptions[Name]> };

export function isImageName(name: string): boolean {
  return NAME.test(name);
}

/** The directory of image `name`; the busybox one is built on first use. */
export function imageDir(name: string): string {
  if (name === BUSYBOX) return ensureRootfs();
  const dir = `${IMAGES_DIR}/${name}`;
  if (!existsSync(dir)) {
    throw new RuntimeError(`no image named ${name}: import one with npm run image -- import ${name} <file.tar> (npm run image -- list shows them)`);
  }
  return dir;
}

/** The images there are, by name: busybox first, if it is built. */
export function listImages(): { name: string; dir: string }[] {
  const imported = existsSync(IMAGES_DIR) ? readdirSync(IMAGES_DIR).filter((name) => NAME.test(name)) : [];
  const busybox = existsSync(`${ROOTFS}/bin/busybox`) ? [{ name: BUSYBOX, dir: ROOTFS }] : [];
  return [...busybox, ...imported.sort().map((name) => ({ name, dir: `${IMAGES_DIR}/${name}` }))];
}

/** The writable layers there are (kept ones, or left by a runtime that was killed). */
export function listLayers(): { id: string; image: string }[] {
  if (!existsSync(CONTAINERS_DIR)) return [];
  return readdirSync(CONTAINERS_DIR).map((id) => {
    let image = '?';
    try {
      image = readlinkSync(`${CONTAINERS_DIR}/${id}/image`);
    } catch {
      // half made: no link yet
    }
    return { id, image };
  });
}

/** A container's writable layer over an image, made and mounted by the runtime. */
export class Layer {
  readonly dir: string;
  readonly root: string; // where image + upper/ show as one tree: the container's /
  constructor(id: string) {
    this.dir = `${CONTAINERS_DIR}/${id}`;
    this.root = `${this.dir}/rootfs`;
  }

  /** Make the empty layer over `image` (a directory). Nothing is copied. */
  create(image: string): this {
    try {
      // 0711: the container's root (an unprivileged user on the host since step 08)
      // must pass through to rootfs/; nobody needs to list what is here.
      mkdirSync(this.dir, { recursive: true, mode: 0o711 });
      chmodSync(this.dir, 0o711); // mkdir's mode went through the umask
      mkdirSync(`${this.dir}/work`, { mode: 0o700 });
      // The top of upper/ is the top of the merged tree: it must look like the image's /.
      const top = statSync(image);
      mkdirSync(`${this.dir}/upper`);
      chmodSync(`${this.dir}/upper`, top.mode & 0o7777);
      chownSync(`${this.dir}/upper`, top.uid, top.gid);
      mkdirSync(this.root, { mode: 0o755 });
      symlinkSync(image, `${this.dir}/image`);
      // Whose it is: `npm run clean` removes the layer of a runtime that was killed.
      writeFileSync(`${this.dir}/runtime.pid`, `${process.pid}\n`);
    } catch (error) {
      this.remove();
      throw fsError(`make the writable layer ${this.dir}`, error);
    }
    return this;
  }

  /**
   * Mount image + upper/ on rootfs/ inside the mount namespace of process `pid` (the
   * container's first process, waiting to start): the mount lives and dies with the
   * container, and the host never sees it.
   * We mount it, root on the host, and not the container's root: overlayfs copies a
   * file up (into upper/) with the credentials of whoever MOUNTED it, and copying a
   * directory of the host's root, say /tmp, means giving the copy that owner back,
   * which a user namespace's root cannot do (EOVERFLOW). What each process may write
   * is still checked against its own credentials.
   * upper/ and work/ must be on one filesystem that is not itself an overlay.
   *
   * The overlay is made here, in our mount namespace, and only attached in theirs.
   * overlayfs takes a private copy of the image's mount, and refuses (EINVAL) if mounts
   * below the image are "locked": the kernel locks every mount it copies into a mount
   * namespace of a less privileged user namespace (theirs), so that nobody there can
   * unmount one to see what it covers. Step 05 leaves such a mount: /containerfs/proc.
   */
  mountFor(pid: number): void {
    const overlay = detachedMount('overlay', {
      source: 'overlay', // the first field of /proc/mounts
      lowerdir: `${this.dir}/image`,
      upperdir: `${this.dir}/upper`,
      workdir: `${this.dir}/work`,
    });
    const ours = openSync('/proc/self/ns/mnt', 'r');
    const theirs = openSync(`/proc/${pid}/ns/mnt`, 'r');
    const cwd = process.cwd();
    try {
      // A thread may change mount namespace only with a root and cwd of its own: Node's
      // threads share theirs (CLONE_FS) until this thread unshares it.
      unshare(CLONE_FS);
      setns(theirs, CLONE_NEWNS);
      try {
        attachMount(overlay, this.root);
      } finally {
        setns(ours, CLONE_NEWNS); // back home: setns also moved our root and cwd
        process.chdir(cwd);
      }
    } finally {
      closeSync(ours);
      closeSync(theirs);
      closeSync(overlay);
    }
  }

  /** Keep the layer after exit (--keep): say where, and mark it for `npm run clean`. */
  keep(): void {
    writeFileSync(`${this.dir}/kept`, '');
    process.stderr.write(`writable layer kept: ${this.dir}\n`);
  }

  /** Delete the layer: upper/ with everything the container wrote. */
  remove(): void {
    try {
      rmSync(this.dir, { recursive: true, force: true });
    } catch (error) {
      process.stderr.write(`writable layer not removed: ${(fsError(`rm ${this.dir}`, error) as Error).message}\n`);
    }
  }
}

/**
 * Delete the writable layers of runtimes that were killed (SIGKILL leaves no time to
 * clean up): neither kept (--keep) nor owned by a runtime still running.
 */
export function removeLeftoverLayers(): string[] {
  const removed: string[] = [];
  for (const { id } of listLayers()) {
    const layer = new Layer(id);
    if (existsSync(`${layer.dir}/kept`)) continue;
    let pid = '';
    try {
      pid = readFileSync(`${layer.dir}/runtime.pid`, 'utf8').trim();
    } catch {
      // half made by a runtime killed in the middle
    }
    if (/^\d+$/.test(pid) && existsSync(`/proc/${pid}`)) continue; // its container runs
    layer.remove();
    removed.push(`removed writable layer ${layer.dir}`);
  }
  return removed;
}
