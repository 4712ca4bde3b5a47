// A container's cgroup from birth to removal: made as <tree>/<CGROUP_PARENT>/<id> in
// each tree it needs (one on v2), removed when the runtime ends, however it ends, with
// one line when the kernel's OOM killer was what ended the container. What a killed
// runtime left, removeLeftoverCgroups() removes (npm run clean).
// The limits themselves are written by the steps: that is step 09's lesson.
import { type Dirent, mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { readFile } from '../kernel/files.ts';
import { fsError } from '../kernel/libc.ts';
import { readMounts } from '../kernel/mountinfo.ts';
import { sleep } from '../kernel/sleep.ts';
import { cgroupParent } from '../runtime/config.ts';
import { RuntimeError } from '../runtime/errors.ts';
import { atExit } from '../runtime/exit.ts';
import { holdLiveness, isAlive } from '../runtime/liveness.ts';
import { formatSize } from '../runtime/sizes.ts';
import { CONTROLLERS, type Controller, chooseLayout, findTrees, type Tree } from './layout.ts';
import * as v1 from './v1.ts';
import * as v2 from './v2.ts';

/** What `--memory 64m --pids 32 --cpus 0.5` asks for; 0 means "no limit", as in docker. */
export interface Limits {
  memory: number; // bytes
  pids: number; // processes and threads, together
  cpus: number; // CPUs' worth of time per period: 0.5 = half of one CPU
}

export interface Cgroup {
  version: 1 | 2;
  dirs: [string, ...string[]]; // one on v2, one per tree on v1
  /** The directory that holds `controller`'s files. */
  dir(controller: Controller): string;
}

/** The controllers that the limits need: a limit of 0 needs none. */
export function controllersFor({ memory, pids, cpus }: Limits): Controller[] {
  return CONTROLLERS.filter((controller) => ({ memory, pids, cpu: cpus })[controller] > 0);
}

/** Make the cgroup of container `id`, removed again when the runtime ends. */
export function createCgroup(id: string, limits: Limits): Cgroup {
  const needed = controllersFor(limits);
  const layout = chooseLayout(
    findTrees(readMounts(), (tree) => readFile(`${tree}/cgroup.controllers`)),
    needed,
  );
  const dirOf = (tree: Tree) => `${tree.mountPoint}/${cgroupParent()}/${id}`;
  const cgroup: Cgroup = {
    version: layout.version,
    dirs: layout.trees.map(dirOf) as Cgroup['dirs'],
    dir(controller) {
      const tree = layout.version === 2 ? layout.trees[0] : layout.treeOf[controller];
      if (!tree) throw new RuntimeError(`cgroup: no ${controller} controller in this container's cgroup`);
      return dirOf(tree);
    },
  };
  atExit((status) => {
    // 137 = 128 + SIGKILL, which the OOM killer sends as `kill -9` does: the cgroup's
    // count of OOM kills tells the two apart.
    if (status === 137 && limits.memory && oomKillsOf(cgroup) > 0) {
      process.stderr.write(`container killed: out of memory (limit ${formatSize(limits.memory)})\n`);
    }
    removeCgroup(cgroup);
  });
  holdLiveness(id); // npm run clean leaves a cgroup alone while its runtime lives
  for (const tree of layout.trees) makeDir(tree, id, layout.version === 2 ? needed : []);
  return cgroup;
}

function oomKillsOf(cgroup: Cgroup): number {
  try {
    return cgroup.version === 2 ? v2.oomKills(cgroup.dir('memory')) : v1.oomKills(cgroup.dir('memory'));
  } catch {
    return 0; // no count to read (a v1 kernel older than 4.13)
  }
}

/** mkdir <tree>/<parent>/<id>, turning the v2 controllers on at every level above it. */
function makeDir(tree: Tree, id: string, enable: Controller[]): void {
  const levels = [...cgroupParent().split('/'), id];
  // Another runtime may remove an (empty) parent between our mkdirs: try again.
  for (let attempt = 1; ; attempt++) {
    let dir = tree.mountPoint;
    try {
      for (const level of levels) {
        v2.enableControllers(dir, enable);
        dir = `${dir}/${level}`;
        if (level !== id) mkdirSync(dir, { recursive: true });
      }
      mkdirSync(dir);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt === 3) throw fsError(`mkdir ${dir}`, error);
    }
  }
}

/**
 * Kill whatever is still in the cgroup, then remove its directories (and its parents,
 * once no container uses them). A cgroup cannot be removed while a process is in it.
 * Runs as the runtime exits, so it never throws: a failure is one line on stderr.
 */
function removeCgroup(cgroup: Cgroup): void {
  for (const dir of cgroup.dirs) {
    try {
      if (cgroup.version === 2) v2.killCgroup(dir);
      killAll(dir);
      removeDir(dir, 2000);
      removeEmptyParents(dir);
    } catch (error) {
      process.stderr.write(`cgroup not removed: ${error instanceof Error ? error.message : error}\n`);
    }
  }
}

/** The PIDs in a cgroup; none when it is gone. */
function processesIn(dir: string): string[] {
  try {
    return readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** SIGKILL every process in the cgroup, until none is left (they may be forking). */
function killAll(dir: string): void {
  for (let round = 0, procs = processesIn(dir); procs.length > 0 && round < 200; round++, procs = processesIn(dir)) {
    for (const pid of procs) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // it ended by itself meanwhile
      }
    }
    sleep(5);
  }
}

/** rmdir, waiting up to `patience` ms on EBUSY: a killed process leaves its cgroup shortly after. */
function removeDir(dir: string, patience: number): boolean {
  for (let waited = 0; ; waited += 10) {
    try {
      rmdirSync(dir);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return false;
      if (code !== 'EBUSY' || waited >= patience) throw fsError(`rmdir ${dir}`, error);
      sleep(10);
    }
  }
}

/** rmdir the parents of `dir` up to the tree's root, while no other container uses them. */
function removeEmptyParents(dir: string): void {
  for (let level = 0; level < cgroupParent().split('/').length; level++) {
    dir = dir.slice(0, dir.lastIndexOf('/'));
    try {
      rmdirSync(dir);
    } catch {
      return; // another container still has its cgroup there (EBUSY), or it is gone
    }
  }
}

/**
 * Remove every EMPTY container cgroup under `parent` in every tree: the leftovers of
 * runtimes that were killed (SIGKILL leaves no time to clean up). One with a process in
 * it stays, and so do its parents, and so does one whose runtime lives (shared/runtime/liveness.ts).
 * For `npm run clean` and the test sandboxes.
 */
export function removeLeftoverCgroups(parent = cgroupParent()): string[] {
  const removed: string[] = [];
  const walk = (dir: string): boolean => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return true; // not in this tree
    }
    let empty = true;
    for (const entry of entries) if (entry.isDirectory() && !walk(`${dir}/${entry.name}`)) empty = false;
    if (!empty || processesIn(dir).length > 0) return false; // a container runs in it, or below
    if (isAlive(dir.slice(dir.lastIndexOf('/') + 1))) return false; // a container starting: still empty
    try {
      if (removeDir(dir, 200)) removed.push(dir);
      return true;
    } catch {
      return false; // still busy
    }
  };
  for (const tree of findTrees(readMounts(), () => '')) walk(`${tree.mountPoint}/${parent}`);
  return removed;
}
