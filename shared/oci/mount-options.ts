// A mount's options as config.json writes them (fstab's words: "nosuid", "ro",
// "mode=755"), split into mount(2)'s flags, a propagation to apply after, and the rest,
// the data string the filesystem itself reads.
import * as libc from '../kernel/libc.ts';

const MS_SYNCHRONOUS = 0x10;
const MS_MANDLOCK = 0x40;
const MS_DIRSYNC = 0x80;
const MS_NOATIME = 0x400;
const MS_NODIRATIME = 0x800;
const MS_UNBINDABLE = 0x20000;
export const MS_SLAVE = 0x80000;
const MS_SHARED = 0x100000;
const MS_RELATIME = 0x200000;
const MS_STRICTATIME = 0x1000000;

// [flag, set (true) or clear (false)]
const FLAGS: Record<string, [number, boolean]> = {
  ro: [libc.MS_RDONLY, true],
  rw: [libc.MS_RDONLY, false],
  nosuid: [libc.MS_NOSUID, true],
  suid: [libc.MS_NOSUID, false],
  nodev: [libc.MS_NODEV, true],
  dev: [libc.MS_NODEV, false],
  noexec: [libc.MS_NOEXEC, true],
  exec: [libc.MS_NOEXEC, false],
  sync: [MS_SYNCHRONOUS, true],
  async: [MS_SYNCHRONOUS, false],
  dirsync: [MS_DIRSYNC, true],
  mand: [MS_MANDLOCK, true],
  nomand: [MS_MANDLOCK, false],
  noatime: [MS_NOATIME, true],
  atime: [MS_NOATIME, false],
  nodiratime: [MS_NODIRATIME, true],
  diratime: [MS_NODIRATIME, false],
  relatime: [MS_RELATIME, true],
  norelatime: [MS_RELATIME, false],
  strictatime: [MS_STRICTATIME, true],
  nostrictatime: [MS_STRICTATIME, false],
  bind: [libc.MS_BIND, true],
  rbind: [libc.MS_BIND | libc.MS_REC, true],
  remount: [libc.MS_REMOUNT, true],
};

export const PROPAGATION: Record<string, number> = {
  private: libc.MS_PRIVATE,
  rprivate: libc.MS_PRIVATE | libc.MS_REC,
  shared: MS_SHARED,
  rshared: MS_SHARED | libc.MS_REC,
  slave: MS_SLAVE,
  rslave: MS_SLAVE | libc.MS_REC,
  unbindable: MS_UNBINDABLE,
  runbindable: MS_UNBINDABLE | libc.MS_REC,
};

export interface ParsedOptions {
  flags: number;
  propagation: number; // 0: none asked
  data: string; // "mode=755,size=65536k"
}

export function parseMountOptions(options: string[] = []): ParsedOptions {
  let flags = 0;
  let propagation = 0;
  const data: string[] = [];
  for (const option of options) {
    const flag = FLAGS[option];
    if (flag) flags = flag[1] ? flags | flag[0] : flags & ~flag[0];
    else if (PROPAGATION[option]) propagation = PROPAGATION[option]!;
    else if (option !== 'defaults') data.push(option); // "tmpcopyup" and other engines' words: data too
  }
  return { flags, propagation, data: data.join(',') };
}

/** The flags a bind mount keeps on its remount (a bind takes none on its first call). */
export const REMOUNT_FLAGS =
  libc.MS_RDONLY | libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;
