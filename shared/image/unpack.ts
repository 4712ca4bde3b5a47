// Unpacking a tar archive (an image layer, or a tarball to import) into a directory,
// safely: the archive is someone else's file, and we unpack it as root.
// - No path lands outside `dir`: a name is taken as if `dir` were / ("/etc/x" is etc/x),
//   and one whose ".." climbs above it, or that goes through a symlink (an entry
//   "etc -> /etc", then "etc/passwd"), is refused. The checks are on the directory tree
//   as it is, with lstat: nothing is ever followed.
// - Owners and modes are the archive's (the container sees its files as packed), hard
//   links and symlinks are made as such; device nodes are left out, but the harmless ones.
// - OCI whiteouts become what overlayfs reads in a lower layer: `.wh.<name>` (this
//   layer deletes <name>) a character device 0:0 named <name>, and `.wh..wh..opq`
//   (the directory hides what the layers below have in it) the xattr
//   trusted.overlay.opaque=y on the directory.
import {
  chmodSync,
  closeSync,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  rmSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { lsetxattr, mknod, S_IFCHR, S_IFIFO } from '../kernel/libc.ts';
import type { TarEntry } from './tar.ts';

// The devices any container may have, as docker allows them: null, zero, full, random,
// urandom, tty (major:minor). /dev/sda or /dev/mem, in an overlay that root mounts on
// the host, would open the host's disk or memory to the container's root.
const HARMLESS_DEVICES = new Set(['1:3', '1:5', '1:7', '1:8', '1:9', '5:0']);

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

class UnsafeArchive extends Error {}

/** What an unpack left out, to tell the user. */
interface UnpackNotes {
  devices: string[]; // the device nodes not made
}

/**
 * "./usr/bin/", "/usr/bin", "usr/lib/../bin" -> ["usr", "bin"]: each name cleaned as docker
 * and containerd clean it, as if the layer were /; only a name that climbs out is refused.
 */
function components(name: string, what: string): string[] {
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..') parts.push(part);
    else if (parts.pop() === undefined) throw new UnsafeArchive(`${what} ${name}: ".." would lead outside the image`);
  }
  return parts;
}

export class Unpacker {
  private readonly dirs = new Set<string>(); // directories checked (real ones, no symlinks)
  readonly notes: UnpackNotes = { devices: [] };
  bytes = 0; // the files' sizes, all told
  private readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
    this.dirs.add(dir);
  }

  /** Every entry of the archive, in order. */
  async unpack(entries: AsyncIterable<TarEntry>): Promise<UnpackNotes> {
    for await (const entry of entries) await this.entry(entry);
    return this.notes;
  }

  /** The parent directories of `parts` under dir: made where missing, never a symlink. */
  private parent(parts: string[], name: string): string {
    let path = this.dir;
    for (const part of parts.slice(0, -1)) {
      path = `${path}/${part}`;
      if (this.dirs.has(path)) continue;
      const there = lstatSync(path, { throwIfNoEntry: false });
      if (there?.isSymbolicLink()) throw new UnsafeArchive(`${name}: goes through the symlink ${path.slice(this.dir.length + 1)}`);
      if (there && !there.isDirectory())
        throw new UnsafeArchive(`${name}: goes through ${path.slice(this.dir.length + 1)}, not a directory`);
      if (!there) mkdirSync(path, { mode: 0o755 });
      this.dirs.add(path);
    }
    return path;
  }

  /** Make room for a new entry at `path`: whatever is there goes (a later layer wins). */
  private clear(path: string): void {
    if (this.dirs.delete(path)) for (const dir of this.dirs) if (dir.startsWith(`${path}/`)) this.dirs.delete(dir);
    rmSync(path, { recursive: true, force: true });
  }

  private async entry(entry: TarEntry): Promise<void> {
    const parts = components(entry.name, 'entry');
    const parent = this.parent(parts, entry.name);
    const base = parts.at(-1);
    const path = base === undefined ? this.dir : `${parent}/${base}`;
    if (base === OPAQUE) return lsetxattr(parent, 'trusted.overlay.opaque', 'y');
    if (base?.startsWith(WHITEOUT)) {
      const name = base.slice(WHITEOUT.length);
      if (name === '' || name === '.' || name === '..') throw new UnsafeArchive(`${entry.name}: a whiteout of nothing`);
      const hidden = `${parent}/${name}`;
      this.clear(hidden);
      return mknod(hidden, S_IFCHR | 0o000); // owned by root: overlayfs wants a 0:0 device
    }
    if (entry.type === 'directory') {
      const there = lstatSync(path, { throwIfNoEntry: false });
      if (!there?.isDirectory()) {
        this.clear(path);
        mkdirSync(path);
      }
      this.dirs.add(path);
    } else {
      if (path === this.dir) throw new UnsafeArchive(`${entry.name}: a ${entry.type} as the image's root`);
      this.clear(path);
      if (entry.type === 'file') return this.file(entry, path);
      if (entry.type === 'symlink') symlinkSync(entry.linkname, path); // only ever followed in the container
      if (entry.type === 'hardlink') linkSync(this.linkTarget(entry), path);
      if (entry.type === 'fifo') mknod(path, S_IFIFO | 0o600);
      if (entry.type === 'char' || entry.type === 'block') {
        const device = `${entry.devmajor}:${entry.devminor}`;
        if (entry.type === 'block' || !HARMLESS_DEVICES.has(device)) return void this.notes.devices.push(entry.name);
        mknod(path, S_IFCHR | 0o600, entry.devmajor, entry.devminor);
      }
      if (entry.type === 'hardlink') return; // the same inode as its target: owner and mode are its
    }
    lchownSync(path, entry.uid, entry.gid);
    if (entry.type !== 'symlink') chmodSync(path, entry.mode); // after chown, which clears setuid bits
    if (entry.type !== 'directory') lutimesSync(path, entry.mtime, entry.mtime);
  }

  /** A hard link's target: a file unpacked before, inside dir, reached through no symlink. */
  private linkTarget(entry: TarEntry): string {
    const parts = components(entry.linkname, `hard link ${entry.name} ->`);
    const target = `${this.parent(parts, entry.linkname)}/${parts.at(-1)}`;
    const there = lstatSync(target, { throwIfNoEntry: false });
    if (!there || there.isDirectory()) throw new UnsafeArchive(`hard link ${entry.name}: ${entry.linkname} is no file unpacked before`);
    return target;
  }

  private async file(entry: TarEntry, path: string): Promise<void> {
    // 'wx': O_CREAT | O_EXCL, which never follows a symlink put there meanwhile. The
    // writes are synchronous: a pull does nothing else meanwhile, and each awaited
    // write would cost a trip through libuv's thread pool.
    const fd = openSync(path, 'wx', 0o600);
    try {
      for await (const chunk of entry.body) writeSync(fd, chunk);
      this.bytes += entry.size;
      fchownSync(fd, entry.uid, entry.gid);
      fchmodSync(fd, entry.mode); // after chown, which clears setuid bits
      futimesSync(fd, entry.mtime, entry.mtime);
    } finally {
      closeSync(fd);
    }
  }
}
