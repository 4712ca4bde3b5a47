// The settings from the environment, checked before use (shared/runtime/config.ts).
import { describe, expect, it } from 'vitest';
import { checkCgroupParent, checkDirectory } from '../../shared/runtime/config.ts';

describe('CONTAINERFS and CONTAINER_STATE', () => {
  it('an absolute path is taken as it is, without a trailing slash, `//`, `.` or `..`', () => {
    expect(checkDirectory('CONTAINERFS', '/containerfs')).toBe('/containerfs');
    expect(checkDirectory('CONTAINERFS', '/var/tmp/my-rootfs/')).toBe('/var/tmp/my-rootfs');
    expect(checkDirectory('CONTAINERFS', '/var//tmp/./a/../b')).toBe('/var/tmp/b');
  });

  it('a relative path is taken from the current directory', () => {
    expect(checkDirectory('CONTAINERFS', 'rootfs')).toBe(`${process.cwd()}/rootfs`);
  });

  it.each(['/sys/..', '/proc/../', '/usr/local/..'])('a system directory, once resolved: %j', (value) => {
    expect(() => checkDirectory('CONTAINERFS', value)).toThrow(/a system directory/);
  });

  it.each(['/', '/sys', '/sys/fs/cgroup', '/proc/1', '/dev/shm', '/etc', '/usr/', '/tmp'])('a system directory: %s', (value) => {
    expect(() => checkDirectory('CONTAINERFS', value)).toThrow(/a system directory/);
  });

  it.each(['/var/tmp/a,b', '/var/tmp/a:b', '/var/tmp/a b'])('what would cut an overlay mount option: %j', (value) => {
    expect(() => checkDirectory('CONTAINER_STATE', value)).toThrow(/no spaces, commas, colons/);
  });
});

describe('CGROUP_PARENT', () => {
  it('plain names, a trailing slash dropped', () => {
    expect(checkCgroupParent('container-from-scratch/tests_1')).toBe('container-from-scratch/tests_1');
    expect(checkCgroupParent('mine/')).toBe('mine');
  });

  it.each(['.', '..', '../escape', 'a/../b', 'a//b', '', 'a b', 'a/.hidden', '/abs'])('refused: %j', (value) => {
    expect(() => checkCgroupParent(value)).toThrow(/CGROUP_PARENT=.*: not a cgroup path/);
  });
});
