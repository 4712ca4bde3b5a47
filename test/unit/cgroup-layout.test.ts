// Finding the cgroup trees and choosing v1 or v2, on fixture mount tables of the three
// layouts machines have: v2 only (the course VM), v1 only, and hybrid (this CI's kind).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chooseLayout, findTrees } from '../../shared/cgroup/layout.ts';
import { controllersFor } from '../../shared/cgroup/lifecycle.ts';
import { parseMountinfo } from '../../shared/kernel/mountinfo.ts';

const fixture = (name: string) => parseMountinfo(readFileSync(new URL(`fixtures/mountinfo-${name}.txt`, import.meta.url), 'utf8'));
const ALL = ['memory', 'pids', 'cpu'] as const;

describe('cgroup layout', () => {
  it('v2 only: one tree, the controllers its cgroup.controllers lists', () => {
    const trees = findTrees(fixture('v2'), () => 'cpuset cpu io memory pids\n');
    expect(trees).toEqual([{ version: 2, mountPoint: '/sys/fs/cgroup', controllers: ['memory', 'pids', 'cpu'] }]);
    const layout = chooseLayout(trees, [...ALL]);
    expect(layout.version).toBe(2);
    expect(layout.trees.map((t) => t.mountPoint)).toEqual(['/sys/fs/cgroup']);
  });

  it('v1 only: a tree per controller; cpu found in the shared cpu,cpuacct tree; named trees ignored', () => {
    const trees = findTrees(fixture('v1'), () => {
      throw new Error('no cgroup2 to read');
    });
    const layout = chooseLayout(trees, [...ALL]);
    expect(layout.version).toBe(1);
    expect(layout.trees.map((t) => t.mountPoint)).toEqual(['/sys/fs/cgroup/memory', '/sys/fs/cgroup/pids', '/sys/fs/cgroup/cpu,cpuacct']);
    expect(layout.treeOf.cpu?.mountPoint).toBe('/sys/fs/cgroup/cpu,cpuacct');
  });

  it('hybrid with an empty v2 tree: the limits go to the v1 trees', () => {
    const layout = chooseLayout(
      findTrees(fixture('hybrid'), () => ''),
      [...ALL],
    );
    expect(layout.version).toBe(1);
    expect(layout.trees).toHaveLength(3);
  });

  it('hybrid, no limit at all: the container still gets a cgroup, in v2', () => {
    const layout = chooseLayout(
      findTrees(fixture('hybrid'), () => ''),
      [],
    );
    expect(layout).toMatchObject({ version: 2, trees: [{ mountPoint: '/sys/fs/cgroup/unified' }] });
  });

  it('a v2 tree missing a controller the limits need, and no v1 tree for it: one line that says which and how to run without', () => {
    const trees = findTrees(fixture('v2'), () => 'cpu memory');
    expect(() => chooseLayout(trees, [...ALL])).toThrow(
      'cgroup controller pids: not enabled in cgroup v2 at /sys/fs/cgroup and not mounted as cgroup v1 (run without that limit: --pids 0)',
    );
  });

  it('no cgroup tree mounted at all', () => {
    const trees = findTrees(parseMountinfo('22 1 8:1 / / rw - ext4 /dev/sda1 rw\n'), () => '');
    expect(() => chooseLayout(trees, ['memory'])).toThrow('no cgroup tree is mounted for it');
    expect(() => chooseLayout(trees, [])).toThrow('no cgroup tree is mounted on this machine');
  });

  it('a limit of 0 needs no controller', () => {
    expect(controllersFor({ memory: 0, pids: 32, cpus: 0 })).toEqual(['pids']);
    expect(controllersFor({ memory: 1, pids: 0, cpus: 0.5 })).toEqual(['memory', 'cpu']);
  });
});

describe('mountinfo', () => {
  it('unescapes spaces and backslashes in paths, and reads type, source and options', () => {
    const [mount] = parseMountinfo(String.raw`40 22 0:35 / /mnt/my\040disk\134x rw,relatime shared:20 - tmpfs my\040src rw,size=10k`);
    expect(mount).toEqual({ mountPoint: '/mnt/my disk\\x', type: 'tmpfs', source: 'my src', options: ['rw', 'size=10k'] });
  });

  it('skips lines that are not mounts (an empty last line)', () => {
    expect(parseMountinfo('\n\n')).toEqual([]);
  });
});
