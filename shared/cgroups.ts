// Control groups: what stops a container from eating the machine. Namespaces decide
// what a process can SEE; a cgroup decides how much it can USE. The kernel counts the
// memory, the processes and the CPU time of everything in a cgroup, and enforces the
// limits written into the cgroup's files.
//
// Machines come in two layouts, and this file is where they differ:
// - cgroup v2 (the learners' VMs: Ubuntu 24.04, Debian 12, Fedora): ONE tree, at
//   /sys/fs/cgroup. A container's cgroup is one directory; its limits are the files
//   memory.max, pids.max and cpu.max in it. A controller works in a child cgroup only
//   once the parent lists it in cgroup.subtree_control.
// - cgroup v1 (older machines, and the "hybrid" layout of many CI machines): one tree
//   PER CONTROLLER (/sys/fs/cgroup/memory, /sys/fs/cgroup/pids, /sys/fs/cgroup/cpu),
//   so a container's cgroup is a directory in each tree, and the files have other
//   names: memory.limit_in_bytes, pids.max, cpu.cfs_quota_us.
// Which one a machine has is read from /proc/self/mountinfo, never assumed. A hybrid
// machine mounts both; a controller is bound to one of them, so we use cgroup v2 only
// when it really offers the controllers the limits need.
import { readdirSync, readFileSync, rmdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { RuntimeError } from './errors.ts';
import { fsError } from './libc.ts';
import type { Flag } from './cli.ts';

/** Where every container's cgroup lives, in each tree: <tree>/container-from-scratch/<id>. */
export const CGROUP_PARENT = 'container-from-scratch';
// docker run's --cgroup-parent, as an environment variable: a path under the tree's
// root (the tests give each sandbox its own, container-from-scratch/<sandbox>).
const parentPath = process.env.CGROUP_PARENT || CGROUP_PARENT;
if (!/^[\w.-]+(\/[\w.-]+)*$/.test(parentPath) || parentPath.split('/').includes('..')) {
  throw new RuntimeError(`CGROUP_PARENT=${parentPath}: not a path under the cgroup tree's root`);
}

const CONTROLLERS = ['memory', 'pids', 'cpu'] as const;
type Controller = (typeof CONTROLLERS)[number];

/** What `--memory 64m --pids 32 --cpus 0.5` asks for; 0 means "no limit", as in docker. */
export interface Limits {
  memory: number; // bytes
  pids: number; // processes and threads, together
  cpus: number; // CPUs' worth of time per period: 0.5 = half of one CPU
}

const MiB = 1024 * 1024;
const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: MiB, g: 1024 * MiB };

/** "64m" -> 67108864. Units as docker's: b, k, m, g (powers of 1024). */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)([bkmg]?)$/i.exec(text);
  if (!match) return undefined;
  const bytes = Math.floor(Number(match[1]) * UNITS[match[2]!.toLowerCase()]!);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A size for people: 67108864 -> "64 MiB". */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [['GiB', 1024 * MiB], ['MiB', MiB], ['KiB', 1024]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} bytes`;
}

// The kernel's CPU limit is a quota of microseconds per period (100 ms): "--cpus 0.5"
// is 50 ms of CPU time every 100 ms, however many processes share it.
const CPU_PERIOD_US = 100_000;

/** `run`'s limit options, with docker's names. Defaults: enough for a shell and its tools. */
export const LIMIT_FLAGS = {
  memory: { example: '64m', default: 256 * MiB, parse: parseSize },
  pids: {
    example: '32',
    default: 128,
    parse: (text) => (/^\d+$/.test(text) && Number(text) <= 4_194_304 ? Number(text) : undefined),
  },
  cpus: {
    example: '0.5',
    default: 1,
    // 0 = no limit; otherwise at least one hundredth of a CPU, at most every CPU there is.
    parse: (text) => {
      const cpus = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
      return cpus === 0 || (cpus >= 0.01 && cpus <= availableParallelism()) ? cpus : undefined;
    },
  },
} satisfies Record<keyof Limits, Flag<number>>;

// ---------------------------------------------------------------------------------
// Finding the cgroup trees: /proc/self/mountinfo lists every mount, one per line:
//   41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
//   35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
// (mount point in field 5; after " - ": the type, the source, the options, which for
// cgroup v1 name the controllers of that tree).

interface Tree {
  version: 1 | 2;
  mountPoint: string;
  controllers: Controller[]; // those the tree can limit
}

function cgroupTrees(): Tree[] {
  const trees: Tree[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [mount, fs] = line.split(' - ');
    if (!mount || !fs) continue;
    const mountPoint = unescapeMountPath(mount.split(' ')[4]!);
    const [type, , options = ''] = fs.split(' ');
    if (type === 'cgroup2') {
      // The controllers this machine has bound to v2 (on a hybrid machine, often none).
      const available = readFileSync(`${mountPoint}/cgroup.controllers`, 'utf8').split(/\s+/);
      trees.push({ version: 2, mountPoint, controllers: CONTROLLERS.filter((c) => available.includes(c)) });
    } else if (type === 'cgroup') {
      const names = options.split(',');
      trees.push({ version: 1, mountPoint, controllers: CONTROLLERS.filter((c) => names.includes(c)) });
    }
  }
  return trees;
}

/** mountinfo writes a space in a path as \040 (and tab, newline, backslash likewise). */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** The controllers that the limits need: a limit of 0 needs none. */
function controllersFor({ memory, pids, cpus }: Limits): Controller[] {
  return CONTROLLERS.filter((controller) => ({ memory, pids, cpu: cpus })[controller] > 0);
}

/**
 * The directories of a new cgroup: one on cgroup v2, one per controller on v1.
 * v2 is chosen when a cgroup2 tree offers every controller the limits need; a hybrid
 * machine's v2 tree usually offers none, so its limits go to the v1 trees.
 */
function chooseTrees(needed: Controller[]): Tree[] {
  const trees = cgroupTrees();
  const v2 = trees.find((tree) => tree.version === 2);
  if (v2 && needed.every((controller) => v2.controllers.includes(controller))) return [v2];
  const v1 = needed.map((controller) => ({ controller, tree: trees.find((t) => t.version === 1 && t.controllers.includes(controller)) }));
  const missing = v1.filter(({ tree }) => !tree).map(({ controller }) => controller);
  if (missing.length > 0) {
    const where = v2 ? `not enabled in cgroup v2 at ${v2.mountPoint} and not mounted as cgroup v1` : 'no cgroup tree is mounted for it';
    const flags = missing.map((controller) => `--${controller === 'cpu' ? 'cpus' : controller} 0`).join(' ');
    throw new RuntimeError(`cgroup controller ${missing.join(', ')}: ${where} (run without that limit: ${flags})`);
  }
  // Two controllers may share one v1 tree (often cpu,cpuacct): one directory each tree.
  return [...new Set(v1.map(({ tree }) => tree!))];
}

// ---------------------------------------------------------------------------------

/** A file write, failing with the path and errno in one line. */
function write(file: string, value: string): void {
  try {
    writeFileSync(file, value);
  } catch (error) {
    throw fsError(`write ${value} to ${file}`, error);
  }
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw fsError(`read ${file}`, error);
  }
}

/** The number after `key` in a "key value" file such as memory.events. */
function field(text: string, key: string): number {
  return Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** A container's cgroup: a directory per tree (one on v2), with the limits written in. */
export class Cgroup {
  readonly version: 1 | 2;
  readonly dirs: string[];
  readonly limits: Limits;

  private constructor(version: 1 | 2, dirs: string[], limits: Limits) {
    this.version = version;
    this.dirs = dirs;
    this.limits = limits;
  }

  /** Make the cgroup `container-from-scratch/<id>` and write its limits. */
  static create(id: string, limits: Limits): Cgroup {
    const needed = controllersFor(limits);
    const trees = chooseTrees(needed);
    const version = trees[0]?.version ?? 1;
    const dirs = trees.map((tree) => `${tree.mountPoint}/${parentPath}/${id}`);
    const cgroup = new Cgroup(version, dirs, limits);
    try {
      for (const tree of trees) makeDir(tree, id, needed);
      cgroup.writeLimits();
    } catch (error) {
      cgroup.remove();
      throw error;
    }
    return cgroup;
  }

  private writeLimits(): void {
    const { memory, pids, cpus } = this.limits;
    const quota = Math.round(cpus * CPU_PERIOD_US);
    for (const dir of this.dirs) {
      const has = (file: string) => readdirSync(dir).includes(file);
      if (this.version === 2) {
        if (memory) write(`${dir}/memory.max`, `${memory}`);
        // No swapping past the limit either (the file exists where swap is accounted).
        if (memory && has('memory.swap.max')) write(`${dir}/memory.swap.max`, '0');
        if (pids) write(`${dir}/pids.max`, `${pids}`);
        if (cpus) write(`${dir}/cpu.max`, `${quota} ${CPU_PERIOD_US}`);
      } else {
        // On v1 each directory belongs to one tree: write only the files it has.
        if (memory && has('memory.limit_in_bytes')) {
          write(`${dir}/memory.limit_in_bytes`, `${memory}`);
          // memory+swap, which must not be below the memory limit: set it second.
          if (has('memory.memsw.limit_in_bytes')) write(`${dir}/memory.memsw.limit_in_bytes`, `${memory}`);
        }
        if (pids && has('pids.max')) write(`${dir}/pids.max`, `${pids}`);
        if (cpus && has('cpu.cfs_quota_us')) {
          write(`${dir}/cpu.cfs_period_us`, `${CPU_PERIOD_US}`);
          write(`${dir}/cpu.cfs_quota_us`, `${quota}`);
        }
      }
    }
  }

  /** Move a process (all its threads) into the cgroup; what it starts later is born in it. */
  add(pid: number): void {
    for (const dir of this.dirs) write(`${dir}/cgroup.procs`, `${pid}`);
  }

  /** How many times the kernel's OOM killer killed a process of this cgroup. */
  oomKills(): number {
    if (!this.limits.memory) return 0;
    for (const dir of this.dirs) {
      if (this.version === 2) return field(read(`${dir}/memory.events`), 'oom_kill');
      // v1: memory.oom_control says "oom_kill N" (kernel 4.13 and later).
      if (readdirSync(dir).includes('memory.oom_control')) return field(read(`${dir}/memory.oom_control`), 'oom_kill');
    }
    return 0;
  }

  /**
   * Kill whatever is still in the cgroup, then remove its directories (and the parent
   * `container-from-scratch`, once no container uses it). A cgroup directory cannot be
   * removed while a process is in it: rmdir fails with EBUSY.
   * Runs as the runtime exits, so it never throws: a failure is one line on stderr.
   */
  remove(): void {
    for (const dir of this.dirs) {
      try {
        killAll(dir, this.version);
        removeDir(dir);
      } catch (error) {
        process.stderr.write(`cgroup not removed: ${error instanceof Error ? error.message : error}\n`);
        continue;
      }
      removeEmptyParents(dir);
    }
  }
}

/** mkdir <tree>/container-from-scratch/<id>, and on v2 turn the needed controllers on. */
function makeDir(tree: Tree, id: string, needed: Controller[]): void {
  // v2: a controller reaches a child only through each parent's cgroup.subtree_control
  // ("+memory +pids"). The root's usually has them already (systemd turns them on).
  const enable = tree.version === 2 ? needed.map((controller) => `+${controller}`).join(' ') : '';
  const levels = [...parentPath.split('/'), id];
  // Another runtime may remove an (empty) parent between our mkdirs: try again.
  for (let attempt = 1; ; attempt++) {
    let dir = tree.mountPoint;
    try {
      for (const level of levels) {
        if (enable) write(`${dir}/cgroup.subtree_control`, enable);
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

/** rmdir the parents of `dir` up to the tree's root, while no other container uses them. */
function removeEmptyParents(dir: string): void {
  for (let level = 0; level < parentPath.split('/').length; level++) {
    dir = dir.slice(0, dir.lastIndexOf('/'));
    try {
      rmdirSync(dir);
    } catch {
      return; // another container still has its cgroup there (EBUSY), or it is gone
    }
  }
}

/**
 * Remove every EMPTY container cgroup under `parent` (default: all) in every tree: the
 * leftovers of runtimes that were killed (SIGKILL leaves no time to clean up). One in
 * use stays, with its parents. For `npm run clean` and the test sandboxes.
 */
export function removeContainerCgroups(parent = CGROUP_PARENT): string[] {
  const removed: string[] = [];
  for (const tree of cgroupTrees()) {
    const top = `${tree.mountPoint}/${parent}`;
    const walk = (dir: string): void => {
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return; // not in this tree
      }
      for (const entry of entries) if (entry.isDirectory()) walk(`${dir}/${entry.name}`);
      if (read(`${dir}/cgroup.procs`).trim()) return; // a container is running in it
      try {
        removeDir(dir);
        removed.push(dir);
      } catch {
        // EBUSY: a child cgroup in use
      }
    };
    walk(top);
  }
  return removed;
}

/** SIGKILL every process in the cgroup, until none is left (they may be forking). */
function killAll(dir: string, version: 1 | 2): void {
  let procs: string;
  try {
    procs = readFileSync(`${dir}/cgroup.procs`, 'utf8');
  } catch {
    return; // never made, or removed already
  }
  if (!procs.trim()) return;
  // v2 (kernel 5.14+): one write kills the whole cgroup, with no race against fork.
  if (version === 2 && readdirSync(dir).includes('cgroup.kill')) write(`${dir}/cgroup.kill`, '1');
  for (let round = 0; procs.trim() && round < 200; round++) {
    for (const pid of procs.split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // it ended by itself meanwhile
      }
    }
    sleep(5);
    procs = readFileSync(`${dir}/cgroup.procs`, 'utf8');
  }
}

/** rmdir, waiting out EBUSY for a moment: a killed process leaves its cgroup shortly after. */
function removeDir(dir: string): void {
  for (let waited = 0; ; waited += 10) {
    try {
      rmdirSync(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || waited >= 2000) throw fsError(`rmdir ${dir}`, error);
      sleep(10);
    }
  }
}
