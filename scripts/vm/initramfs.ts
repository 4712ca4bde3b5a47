// The VM's first root filesystem: an initramfs, a cpio archive (the "newc" format) that
// the kernel unpacks into RAM and whose /init it runs as PID 1. Ours holds a static
// busybox (a shell, mount, insmod, switch_root), the kernel modules that reach the
// host's files, and /init itself (initramfs-init.sh). Debian builds virtio, 9p and
// overlayfs as modules, not into the kernel, and no modprobe can find them before the
// root filesystem is there: /init loads them one by one, dependencies first.
// Cached beside the kernel, under a name that changes when /init or the kernel does.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { $ } from 'zx/core';
import { findStaticBusybox } from '../../shared/image/rootfs-build.ts';
import type { Kernel } from './kernel.ts';

const INIT = new URL('initramfs-init.sh', import.meta.url).pathname;
// What /init needs to mount the host's / (virtio-9p over PCI) and an overlay on it.
const MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'overlay'];

/** The path of the cached initramfs for `kernel`, built first if need be. */
export async function ensureInitramfs(cache: string, kernel: Kernel): Promise<string> {
  const init = readFileSync(INIT);
  const hash = createHash('sha256').update(init).update(kernel.version).digest('hex').slice(0, 12);
  const archive = join(cache, `initramfs-${kernel.version}-${hash}.cpio`);
  if (existsSync(archive)) return archive;
  for (const old of readdirSync(cache).filter((file) => file.startsWith('initramfs-'))) rmSync(join(cache, old));

  const tree = join(cache, 'initramfs.partial');
  rmSync(tree, { recursive: true, force: true });
  for (const dir of ['bin', 'dev', 'proc', 'modules', 'host', 'writes', 'newroot']) mkdirSync(join(tree, dir), { recursive: true });
  copyFileSync(findStaticBusybox(), join(tree, 'bin/busybox'));
  writeFileSync(join(tree, 'init'), init, { mode: 0o755 });
  const order = loadOrder(kernel.modules, MODULES);
  for (const module of order) copyFileSync(join(kernel.modules, module), join(tree, 'modules', basename(module)));
  writeFileSync(join(tree, 'modules/order'), `${order.map((module) => basename(module)).join('\n')}\n`);
  // busybox cpio reads the names to archive on stdin, as cpio(1) does.
  await $({ cwd: tree, quiet: true })`find . | ./bin/busybox cpio -o -H newc >${archive}.partial`; // quiet: its count of blocks
  renameSync(`${archive}.partial`, archive);
  rmSync(tree, { recursive: true });
  return archive;
}

/**
 * The files of `wanted` and of all they depend on, each after its dependencies. Every
 * line of modules.dep (depmod's index) is "kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko ...".
 */
function loadOrder(modulesDir: string, wanted: string[]): string[] {
  const dependencies = new Map<string, string[]>();
  for (const line of readFileSync(join(modulesDir, 'modules.dep'), 'utf8').split('\n').filter(Boolean)) {
    const [module, rest = ''] = line.split(':');
    dependencies.set(module!, rest.split(' ').filter(Boolean));
  }
  const order: string[] = [];
  const visit = (module: string) => {
    if (order.includes(module)) return;
    for (const dependency of dependencies.get(module) ?? []) visit(dependency);
    order.push(module);
  };
  for (const name of wanted) {
    const module = [...dependencies.keys()].find((file) => basename(file) === `${name}.ko`);
    if (!module) throw new Error(`kernel ${basename(modulesDir)} has no module ${name}`);
    visit(module);
  }
  return order;
}
