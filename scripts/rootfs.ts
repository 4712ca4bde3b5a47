// npm run rootfs: build the container's root filesystem, offline, from the host's
// static busybox: one binary plus a symlink per applet (sh, ls, ps, hostname, ...).
// Safe to run again: it only adds what is missing.
import { $, fs, path } from 'zx';
import { ROOTFS } from '../shared/rootfs.ts';

$.verbose = false;

const TOOLS = new URL('../tools', import.meta.url).pathname;
const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox', '/usr/lib/busybox/busybox-static'];

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

/** A static binary has no program interpreter (ld-linux) to find inside the rootfs. */
async function isStatic(file: string): Promise<boolean> {
  const bytes = await fs.readFile(file);
  return !bytes.includes('/ld-linux') && !bytes.includes('/ld-musl');
}

async function findStaticBusybox(): Promise<string> {
  for (const candidate of BUSYBOX_CANDIDATES) {
    if ((await fs.pathExists(candidate)) && (await isStatic(candidate))) return candidate;
  }
  fail('busybox (static) is missing: install it with `sudo apt-get install busybox-static` (Debian/Ubuntu)');
}

async function build(root: string): Promise<void> {
  const busybox = await findStaticBusybox();
  for (const dir of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'proc', 'sys', 'dev', 'etc', 'root', 'tmp']) {
    await fs.mkdirp(path.join(root, dir));
  }
  await fs.chmod(path.join(root, 'tmp'), 0o1777);

  const target = path.join(root, 'bin/busybox');
  await fs.copy(busybox, target, { overwrite: true, dereference: true });
  await fs.chmod(target, 0o755);

  // One symlink per applet, pointing at /bin/busybox as the container will see it.
  // Never let an applet link replace the busybox binary itself: every applet would
  // then be a link to a link to itself, and fail with ELOOP.
  const applets = (await $`${target} --list-full`).stdout.split('\n').filter(Boolean);
  for (const applet of applets) {
    const link = path.join(root, applet);
    if (link === target || (await exists(link))) continue;
    await fs.mkdirp(path.dirname(link));
    await fs.symlink('/bin/busybox', link);
  }

  await write(root, 'etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  await write(root, 'etc/group', 'root:x:0:\nnogroup:x:65534:\n');
  await write(root, 'etc/os-release', 'NAME="container-from-scratch"\nID=busybox\nPRETTY_NAME="busybox root filesystem (container-from-scratch)"\n');

  // The course's tools for use inside the container (escape-chroot: steps 05 and 06),
  // always the current version.
  for (const tool of await fs.readdir(TOOLS)) {
    await fs.copy(path.join(TOOLS, tool), path.join(root, 'bin', tool), { overwrite: true });
  }

  // A few device nodes that programs expect (needs root; skipped otherwise).
  if (process.getuid?.() === 0) {
    for (const [name, major, minor] of [['null', 1, 3], ['zero', 1, 5], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0]] as const) {
      const node = path.join(root, 'dev', name);
      if (!(await exists(node))) await $`mknod -m 666 ${node} c ${major} ${minor}`;
    }
  }
}

/** Like fs.pathExists, but true for a symlink whose target is outside (dangling here). */
async function exists(file: string): Promise<boolean> {
  return fs.lstat(file).then(() => true, () => false);
}

async function write(root: string, file: string, content: string): Promise<void> {
  const target = path.join(root, file);
  if (!(await exists(target))) await fs.writeFile(target, content);
}

try {
  await build(ROOTFS);
  console.error(`Root filesystem ready at ${ROOTFS}`);
} catch (error) {
  fail(`building the root filesystem at ${ROOTFS} failed: ${error instanceof Error ? error.message : error}`);
}
