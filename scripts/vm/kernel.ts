// The VM's kernel: Debian's own, the one Debian's metapackage linux-image-amd64 points
// to today (bookworm: 6.1). `apt-get download` fetches the package without installing
// it (nothing on this machine changes), `dpkg-deb -x` unpacks it, and `depmod` indexes
// its modules, so that the VM's modprobe, and we (initramfs.ts), can find them.
// All of it lives in the cache (node_modules/.cache/vm/kernel): a second run downloads
// nothing. Delete that folder to take Debian's newest kernel.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from 'zx/core';

export interface Kernel {
  version: string; // "6.1.0-57-amd64", as uname -r says in the VM
  image: string; // the kernel QEMU boots: <root>/boot/vmlinuz-<version>
  modules: string; // <root>/lib/modules/<version>, with modules.dep
}

/** The cached kernel, downloaded and unpacked first if there is none. */
export async function ensureKernel(cache: string): Promise<Kernel> {
  const root = join(cache, 'kernel');
  const cached = unpacked(root);
  if (cached) return cached;

  const depends = (await $`apt-cache depends linux-image-amd64`).stdout;
  const name = /Depends: (linux-image-\S+)/.exec(depends)?.[1];
  if (!name) throw new Error('apt-cache knows no linux-image-amd64: run apt-get update');
  const work = join(cache, 'kernel.partial'); // renamed to kernel/ once complete
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  process.stderr.write(`test:vm: downloading ${name} from Debian's mirror (once: then it is cached)\n`);
  // As root, apt drops to its user _apt to download, which may not write here.
  await $({ cwd: work })`apt-get download -qq -o APT::Sandbox::User=root ${name}`;
  const deb = readdirSync(work).find((file) => file.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${name} fetched no .deb`);
  await $({ cwd: work })`dpkg-deb -x ${deb} root`;
  const kernel = unpacked(join(work, 'root'));
  if (!kernel) throw new Error(`${deb} holds no boot/vmlinuz-*`);
  await $`depmod -b ${join(work, 'root')} ${kernel.version}`;
  renameSync(join(work, 'root'), root);
  rmSync(work, { recursive: true, force: true });
  return unpacked(root)!;
}

/** The kernel unpacked at `root`, if it is there (kernel/ is complete: see the rename). */
function unpacked(root: string): Kernel | undefined {
  const image = existsSync(join(root, 'boot')) ? readdirSync(join(root, 'boot')).find((file) => file.startsWith('vmlinuz-')) : undefined;
  if (!image) return undefined;
  const version = image.slice('vmlinuz-'.length);
  // bookworm's packages put modules in /lib/modules, newer ones in /usr/lib/modules.
  const modules = ['lib/modules', 'usr/lib/modules'].map((dir) => join(root, dir, version)).find((dir) => existsSync(dir));
  return modules ? { version, image: join(root, 'boot', image), modules } : undefined;
}
