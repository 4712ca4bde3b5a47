// Where a machine's cgroup trees are, and which one limits what. Machines come in two
// layouts:
// - cgroup v2 (the learners' VMs: Ubuntu 24.04, Debian 12, Fedora): ONE tree, at
//   /sys/fs/cgroup. A container's cgroup is one directory, holding every limit.
// - cgroup v1 (older machines, and the "hybrid" layout of many CI machines): one tree
//   PER CONTROLLER (/sys/fs/cgroup/memory, /sys/fs/cgroup/pids, /sys/fs/cgroup/cpu,cpuacct),
//   so a container's cgroup is a directory in each.
// Which one a machine has is read from the mount table, never assumed. A hybrid machine
// mounts both, and binds each controller to one of them: we use v2 only when it really
// offers every controller the limits need.

import type { MountEntry } from '../kernel/mountinfo.ts';
import { RuntimeError } from '../runtime/errors.ts';

export const CONTROLLERS = ['memory', 'pids', 'cpu'] as const;
export type Controller = (typeof CONTROLLERS)[number];

export interface Tree {
  version: 1 | 2;
  mountPoint: string;
  controllers: Controller[]; // those this tree can limit
}

/**
 * The cgroup trees among `mounts`. A v1 tree names its controllers in its mount
 * options; v2 lists those bound to it in <tree>/cgroup.controllers (`readControllers`).
 */
export function findTrees(mounts: MountEntry[], readControllers: (mountPoint: string) => string): Tree[] {
  return mounts.flatMap(({ type, mountPoint, options }): Tree[] => {
    if (type === 'cgroup2') {
      const bound = readControllers(mountPoint).split(/\s+/);
      return [{ version: 2, mountPoint, controllers: CONTROLLERS.filter((c) => bound.includes(c)) }];
    }
    if (type === 'cgroup') return [{ version: 1, mountPoint, controllers: CONTROLLERS.filter((c) => options.includes(c)) }];
    return [];
  });
}

/** The layout a new cgroup gets: its version, and the tree of each controller it needs. */
interface Layout {
  version: 1 | 2;
  trees: Tree[]; // one on v2; on v1, one per tree (cpu and cpuacct may share one)
  treeOf: Partial<Record<Controller, Tree>>;
}

/** v2 when a cgroup2 tree offers every controller needed, else the v1 trees; or why not. */
export function chooseLayout(trees: Tree[], needed: Controller[]): Layout {
  const v2 = trees.find((tree) => tree.version === 2);
  if (v2 && needed.every((controller) => v2.controllers.includes(controller))) {
    return { version: 2, trees: [v2], treeOf: Object.fromEntries(needed.map((c) => [c, v2])) };
  }
  const treeOf: Layout['treeOf'] = {};
  for (const controller of needed) {
    const tree = trees.find((t) => t.version === 1 && t.controllers.includes(controller));
    if (tree) treeOf[controller] = tree;
  }
  const notInV1 = needed.filter((controller) => !treeOf[controller]);
  if (notInV1.length > 0) {
    // Name those neither tree has: without them, v2 alone would do. (A mix of the two
    // for one container, v2 for some controllers and v1 for others, we do not make.)
    const inNeither = notInV1.filter((controller) => !v2?.controllers.includes(controller));
    const missing = inNeither.length > 0 ? inNeither : notInV1;
    const where = v2 ? `not enabled in cgroup v2 at ${v2.mountPoint} and not mounted as cgroup v1` : 'no cgroup tree is mounted for it';
    const flags = missing.map((controller) => `--${controller === 'cpu' ? 'cpus' : controller} 0`).join(' ');
    throw new RuntimeError(`cgroup controller ${missing.join(', ')}: ${where} (run without that limit: ${flags})`);
  }
  // With no limit at all (every one 0), a container still gets a cgroup: v2's, or the
  // first v1 tree's.
  const fallback = v2 ?? trees.find((tree) => tree.version === 1);
  const used = [...new Set(Object.values(treeOf))];
  if (used.length === 0 && fallback) return { version: fallback.version, trees: [fallback], treeOf };
  if (used.length === 0) throw new RuntimeError('cgroups: no cgroup tree is mounted on this machine');
  return { version: 1, trees: used, treeOf };
}
