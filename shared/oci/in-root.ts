// A path of the container (a mount's destination), as a host path that stays inside its
// root filesystem whatever symlinks the image holds. Joined naively, an image's
// `etc/x -> /etc` would make a mount on /etc/x land on the host's /etc: runc resolves each
// component itself (its "securejoin"), an absolute link from the root filesystem's top,
// `..` never above it. So does this.
import { existsSync, lstatSync, mkdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { RuntimeError } from '../runtime/errors.ts';

const MAX_LINKS = 40; // as the kernel's path walk: a loop ends here

/** `path` (as the container names it) under `root`, every symlink on the way resolved within `root`. */
export function inRoot(root: string, path: string): string {
  const done: string[] = []; // the components resolved so far, under root
  const todo = path.split('/').filter(Boolean);
  for (let links = 0; todo.length > 0; ) {
    const part = todo.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      done.pop(); // never above the root
      continue;
    }
    const host = `${root}/${[...done, part].join('/')}`;
    const stat = lstatSync(host, { throwIfNoEntry: false });
    if (!stat?.isSymbolicLink()) {
      done.push(part); // a directory, a file, or nothing yet (made later): as it is
      continue;
    }
    if (++links > MAX_LINKS) throw new RuntimeError(`${path}: too many symbolic links in the root filesystem`);
    const target = readlinkSync(host);
    if (target.startsWith('/')) done.length = 0; // absolute: from the root filesystem's top
    todo.unshift(...target.split('/').filter(Boolean));
  }
  return `${root}/${done.join('/')}`;
}

export function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/** What a mount is put on, made where missing: a file for a bind of a file, else a directory. */
export function makeMountPoint(target: string, bindSource: string): void {
  if (existsSync(target)) return;
  const file = bindSource !== '' && existsSync(bindSource) && !isDirectory(bindSource);
  mkdirSync(file ? dirname(target) : target, { recursive: true });
  if (file) writeFileSync(target, '');
}
