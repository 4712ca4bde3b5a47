// A container's cgroup as an engine names it (linux.cgroupsPath: podman's
// /libpod_parent/libpod-<id>, containerd's /default/<id>), in every tree the machine
// mounts: on v1 one directory per hierarchy, as runc joins them all; on v2 one. Its
// limits (linux.resources) are files there, under v1's or v2's names.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CONTROLLERS } from '../cgroup/layout.ts';
import { enableControllers } from '../cgroup/v2.ts';
import { writeFile } from '../kernel/files.ts';
import { readMounts } from '../kernel/mountinfo.ts';
import { sleep } from '../kernel/sleep.ts';
import { RuntimeError } from '../runtime/errors.ts';
import type { Device, DeviceRule, Resources } from './config.ts';

/** The directories of cgroup `path` ("/default/abc"), one per mounted tree. */
export function cgroupDirs(path: string): string[] {
  if (path.split('/').includes('..')) throw new RuntimeError(`linux.cgroupsPath: ${path} climbs out of the cgroup tree`);
  const trees = readMounts().filter(({ type }) => type === 'cgroup' || type === 'cgroup2');
  // A tree mounted twice (a bind inside a container) counts once.
  const points = [...new Set(trees.map(({ mountPoint }) => mountPoint))];
  return points.map((point) => join(point, path));
}

/**
 * Make every directory, parents first. Other runtimes may be making or removing the same
 * parents at the same moment (two creates under /default): a parent made meanwhile is
 * used, one removed meanwhile is made again. Then every level is completed, made by us or not.
 */
export function makeCgroup(dirs: string[]): void {
  for (const dir of dirs) {
    for (let attempt = 1; ; attempt++) {
      try {
        mkdirSync(dir, { recursive: true });
        completeLevels(dir);
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' || attempt === 5) throw error; // ENOENT: a parent removed under us
      }
    }
  }
}

/**
 * From the tree's root down to `dir`: v1's cpuset needs CPUs and memory nodes at every
 * level (a process may not join a cgroup that has none: ENOSPC), copied from the level
 * above where empty, even in a level another runtime made and has not filled yet; v2
 * needs the controllers the limits use enabled for the children of each level.
 */
function completeLevels(dir: string): void {
  const levels: string[] = [];
  for (let d = dir; existsSync(join(dirname(d), 'cgroup.procs')); d = dirname(d)) levels.unshift(d);
  for (const d of levels) {
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if (existsSync(join(d, file)) && readFileSync(join(d, file), 'utf8').trim() === '') {
        writeFile(join(d, file), readFileSync(join(dirname(d), file), 'utf8'));
      }
    }
    if (existsSync(join(dirname(d), 'cgroup.subtree_control'))) {
      const offered = readFileSync(join(dirname(d), 'cgroup.controllers'), 'utf8').split(/\s+/);
      enableControllers(
        dirname(d),
        CONTROLLERS.filter((name) => offered.includes(name)),
      );
    }
  }
}

/** Move process `pid` into the cgroup, in every tree. */
export function joinCgroup(dirs: string[], pid: number): void {
  for (const dir of dirs) writeFile(join(dir, 'cgroup.procs'), `${pid}`);
}

/** Write the limits, each under the names of the tree that has its controller. */
export function applyResources(dirs: string[], resources: Resources = {}, devices: Device[] = []): void {
  const { memory, cpu, pids, devices: rules } = resources;
  const has = (file: string) => dirs.map((dir) => join(dir, file)).find((path) => existsSync(path));
  const set = (file: string, value: string | number | undefined) => {
    if (value === undefined) return;
    const path = has(file);
    if (!path) throw new RuntimeError(`linux.resources: this machine's cgroups have no ${file}`);
    writeFile(path, `${value}`);
  };
  // v2 alone: one tree. Hybrid (v1's controllers, and a v2 tree that holds none) and v1: many.
  const v2 = dirs.length === 1 && existsSync(join(dirs[0]!, 'cgroup.controllers'));
  const limit = memory?.limit !== undefined && memory.limit > 0 ? memory.limit : undefined;
  if (v2) {
    set('memory.max', limit);
    if (memory?.swap !== undefined && limit !== undefined)
      set('memory.swap.max', memory.swap < 0 ? 'max' : Math.max(0, memory.swap - limit));
    set('memory.low', memory?.reservation || undefined);
    set('pids.max', pids ? (pids.limit > 0 ? pids.limit : 'max') : undefined);
    if (cpu?.shares) set('cpu.weight', 1 + Math.floor(((cpu.shares - 2) * 9999) / 262142));
    if (cpu?.quota || cpu?.period) set('cpu.max', `${cpu.quota && cpu.quota > 0 ? cpu.quota : 'max'} ${cpu.period || 100000}`);
    set('cpuset.cpus', cpu?.cpus || undefined);
    set('cpuset.mems', cpu?.mems || undefined);
    return; // v2's devices are a BPF program: left to the devices the container is given (see the page)
  }
  set('memory.limit_in_bytes', limit);
  if (memory?.swap && limit !== undefined && has('memory.memsw.limit_in_bytes')) set('memory.memsw.limit_in_bytes', memory.swap);
  set('memory.soft_limit_in_bytes', memory?.reservation || undefined);
  set('memory.swappiness', memory?.swappiness);
  if (memory?.disableOOMKiller) set('memory.oom_control', 1);
  set('pids.max', pids ? (pids.limit > 0 ? pids.limit : 'max') : undefined);
  set('cpu.shares', cpu?.shares || undefined);
  set('cpu.cfs_period_us', cpu?.period || undefined);
  set('cpu.cfs_quota_us', cpu?.quota || undefined);
  set('cpuset.cpus', cpu?.cpus || undefined);
  set('cpuset.mems', cpu?.mems || undefined);
  if (rules && has('devices.deny')) applyDeviceRules(has('devices.deny')!, rules, devices);
}

// What every container may use whatever its config says, as runc allows it: making any
// node (mknod; opening one is another matter), the usual six, ptys, /dev/net/tun.
// biome-ignore format: a table
const ALWAYS_ALLOWED = ['c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm',
  'c 5:0 rwm', 'c 5:2 rwm', 'c 136:* rwm', 'c 10:200 rwm'];

/** v1's device controller: "a" (all) denied, then each rule, as "c 1:3 rwm"; the config's devices allowed. */
function applyDeviceRules(denyFile: string, rules: DeviceRule[], devices: Device[]): void {
  const dir = dirname(denyFile);
  const allowed = devices.map(({ type, major, minor }) => ({ allow: true, type, major, minor, access: 'rwm' }));
  const always = ALWAYS_ALLOWED.map((line) => {
    const [type, numbers, access] = line.split(' ');
    const [major, minor] = numbers!.split(':').map((n) => (n === '*' ? undefined : Number(n)));
    return { allow: true, type, major, minor, access };
  });
  for (const rule of [...rules, ...always, ...allowed]) {
    const line = `${rule.type ?? 'a'} ${rule.major ?? '*'}:${rule.minor ?? '*'} ${rule.access ?? 'rwm'}`;
    writeFile(join(dir, rule.allow ? 'devices.allow' : 'devices.deny'), rule.type === 'a' || !rule.type ? 'a' : line);
  }
}

/** The PIDs in the cgroup (its first tree that lists any). */
export function processesIn(dirs: string[]): number[] {
  for (const dir of dirs) {
    try {
      const pids = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
      if (pids.length > 0) return pids;
    } catch {}
  }
  return [];
}

/** Freeze (pause) or thaw (resume) every process in it. */
export function freeze(dirs: string[], frozen: boolean): void {
  const v1 = dirs.find((dir) => existsSync(join(dir, 'freezer.state')));
  const v2 = dirs.find((dir) => existsSync(join(dir, 'cgroup.freeze')));
  if (v1) writeFile(join(v1, 'freezer.state'), frozen ? 'FROZEN' : 'THAWED');
  else if (v2) writeFile(join(v2, 'cgroup.freeze'), frozen ? '1' : '0');
  else throw new RuntimeError("pause: no freezer in this container's cgroups");
}

/**
 * Remove it, deepest first: rmdir succeeds once no process is left, which takes the
 * kernel a moment after a SIGKILL. The parents an engine named stay: they are its own.
 */
export function removeCgroup(dirs: string[], patienceMs = 5000): void {
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const child of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()))
      removeCgroup([join(dir, child.name)], patienceMs);
    for (let waited = 0; ; waited += 10) {
      try {
        rmdirSync(dir);
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code !== 'EBUSY' || waited >= patienceMs) throw new RuntimeError(`rmdir ${dir}: ${code}`);
        sleep(10);
      }
    }
  }
}
