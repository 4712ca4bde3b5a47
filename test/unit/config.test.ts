// The settings from the environment, checked before use (shared/config.ts).
import { describe, expect, it } from 'vitest';
import { checkCgroupParent, checkDirectory } from '../../shared/config.ts';

describe('CONTAINERFS and CONTAINER_STATE', () => {
  it('an absolute path is taken, without its trailing slash', () => {
    expect(checkDirectory('CONTAINERFS', '/containerfs')).toBe('/containerfs');
    expect(checkDirectory('CONTAINERFS', '/var/tmp/my-rootfs/')).toBe('/var/tmp/my-rootfs');
  });

  it.each(['containerfs', './x', '/a//b', '/a/../b', '/a/./b', ''])('not an absolute, plain path: %j', (value) => {
    expect(() => checkDirectory('CONTAINERFS', value)).toThrow(/not an absolute path/);
  });

  it.each(['/', '/sys', '/sys/fs/cgroup', '/proc/1', '/dev/shm', '/etc', '/usr/', '/tmp'])('a system directory: %s', (value) => {
    expect(() => checkDirectory('CONTAINERFS', value)).toThrow(/a system directory/);
  });

  it.each(['/var/tmp/a,b', '/var/tmp/a:b', '/var/tmp/a b'])('what would cut an overlay mount option: %j', (value) => {
    expect(() => checkDirectory('CONTAINER_STATE', value)).toThrow(/no spaces, commas, colons/);
  });
});

describe('CGROUP_PARENT', () => {
  it('plain names, slashes at the ends dropped', () => {
    expect(checkCgroupParent('container-from-scratch/tests_1')).toBe('container-from-scratch/tests_1');
    expect(checkCgroupParent('/mine/')).toBe('mine');
  });

  it.each(['.', '..', '../escape', 'a/../b', 'a//b', '', 'a b', 'a/.hidden'])('refused: %j', (value) => {
    expect(() => checkCgroupParent(value)).toThrow(/CGROUP_PARENT=.*: not a cgroup path/);
  });
});
