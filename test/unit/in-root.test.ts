// A mount's destination stays inside the container's root filesystem, whatever its symlinks
// say (shared/oci/in-root.ts): real symlinks in a folder of the test's own.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { inRoot } from '../../shared/oci/in-root.ts';

const root = mkdtempSync(join(tmpdir(), 'in-root-'));
mkdirSync(join(root, 'etc'));
symlinkSync('/etc', join(root, 'etc/host-etc')); // absolute: the image's /etc, not the host's
symlinkSync('../../../../..', join(root, 'etc/up')); // climbs: stops at the root
symlinkSync('missing/dir', join(root, 'etc/dangling')); // relative, to nothing yet
symlinkSync('loop', join(root, 'loop'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('a plain path is joined as it is', () => {
  expect(inRoot(root, '/proc')).toBe(`${root}/proc`);
  expect(inRoot(root, '/etc/./hosts')).toBe(`${root}/etc/hosts`);
});

it("an absolute symlink leads from the root filesystem's top, never to the host's", () => {
  expect(inRoot(root, '/etc/host-etc/passwd')).toBe(`${root}/etc/passwd`);
});

it('.. and links that climb stop at the root', () => {
  expect(inRoot(root, '/../../etc')).toBe(`${root}/etc`);
  expect(inRoot(root, '/etc/up/tmp')).toBe(`${root}/tmp`);
});

it('a dangling link resolves to where its target would be made', () => {
  expect(inRoot(root, '/etc/dangling')).toBe(`${root}/etc/missing/dir`);
});

it('a loop is one line, not a hang', () => {
  expect(() => inRoot(root, '/loop/x')).toThrow('too many symbolic links');
});
