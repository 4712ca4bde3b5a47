// Building the container's root filesystem, offline, from the host's static busybox:
// one binary plus a symlink per applet (sh, ls, ps, hostname, ...). `npm run rootfs`
// runs it, and so does ensureRootfs (rootfs.ts) the first time a step needs it.
// Safe to run again: it only adds what is missing (and brings the tools up to date).
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { RuntimeError } from '../runtime/errors.ts';

const TOOLS = new URL('../../tools', import.meta.url).pathname;
const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox', '/usr/lib/busybox/busybox-static'];
const DIRS = ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'proc', 'sys', 'dev', 'etc', 'root', 'tmp'];
const FILES = {
  'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n',
  'etc/group': 'root:x:0:\nnogroup:x:65534:\n',
  'etc/os-release': 'NAME="container-from-scratch"\nID=busybox\nPRETTY_NAME="busybox root filesystem (container-from-scratch)"\n',
};
// A few device nodes that programs expect: name, major, minor.
const DEVICES = [
  ['null', 1, 3],
  ['zero', 1, 5],
  ['random', 1, 8],
  ['urandom', 1, 9],
  ['tty', 5, 0],
] as const;

/** Build (or complete) the root filesystem at `root`; a RuntimeError says why it failed. */
export function buildRootfs(root: string): void {
  const busybox = findStaticBusybox();
  try {
    populate(root, busybox);
  } catch (error) {
    throw new RuntimeError(`building the root filesystem at ${root} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function populate(root: string, busybox: string): void {
  for (const dir of DIRS) mkdirSync(join(root, dir), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);

  const target = join(root, 'bin/busybox');
  install(busybox, target);
  chmodSync(target, 0o755);

  // One symlink per applet, pointing at /bin/busybox as the container will see it.
  // Never let an applet link replace the busybox binary itself: every applet would
  // then be a link to a link to itself, and fail with ELOOP.
  for (const applet of run(busybox, ['--list-full']).split('\n').filter(Boolean)) {
    const link = join(root, applet);
    if (link === target || exists(link)) continue;
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync('/bin/busybox', link);
  }

  for (const [file, content] of Object.entries(FILES)) {
    if (!exists(join(root, file))) writeFileSync(join(root, file), content);
  }

  // The course's tools for use inside the container (escape-chroot: steps 05 and 06),
  // always the current version.
  for (const tool of readdirSync(TOOLS)) install(join(TOOLS, tool), join(root, 'bin', tool));

  // mknod needs root (CAP_MKNOD); anyone else gets no device nodes.
  if (process.getuid?.() === 0) {
    for (const [name, major, minor] of DEVICES) {
      const node = join(root, 'dev', name);
      if (!exists(node)) run(busybox, ['mknod', '-m', '666', node, 'c', String(major), String(minor)]);
    }
  }
}

/** A static binary has no program interpreter (ld-linux) to find inside the rootfs. */
export function findStaticBusybox(): string {
  for (const candidate of BUSYBOX_CANDIDATES) {
    if (!statSync(candidate, { throwIfNoEntry: false })?.isFile()) continue; // not /dev/null, say
    const bytes = readFileSync(candidate);
    if (!bytes.includes('/ld-linux') && !bytes.includes('/ld-musl')) return candidate;
  }
  throw new RuntimeError('busybox (static) is missing: install it with sudo apt-get install busybox-static (Debian/Ubuntu)');
}

/** Run the host's busybox (the same binary as the rootfs's); its output. */
function run(busybox: string, args: string[]): string {
  const result = spawnSync(busybox, args, { encoding: 'utf8' });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`busybox ${args.join(' ')}: ${result.stderr.trim() || `status ${result.status}`}`);
  return result.stdout;
}

/**
 * Copy a file in, unless the same bytes are already there. The old file is removed
 * rather than written over: a running container may be executing it.
 */
function install(from: string, to: string): void {
  if (lstatSync(to, { throwIfNoEntry: false })?.isFile() && readFileSync(to).equals(readFileSync(from))) return;
  rmSync(to, { force: true });
  copyFileSync(from, to); // keeps the mode: tools stay executable
}

/** True for a symlink too, even one whose target is outside (dangling on the host). */
function exists(file: string): boolean {
  return lstatSync(file, { throwIfNoEntry: false }) !== undefined;
}
