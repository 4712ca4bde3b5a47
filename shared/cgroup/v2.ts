// What only cgroup v2 has, or names otherwise.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from '../kernel/files.ts';
import type { Controller } from './layout.ts';

/**
 * A controller reaches a child cgroup only through its parent's cgroup.subtree_control
 * ("+memory +pids"): turn the needed ones on in `parent`. (The tree's root usually has
 * them on already: systemd does it.) And the "no internal processes" rule: a cgroup
 * that hands controllers to its children may hold no process itself, which is why
 * our parent cgroups never hold one.
 */
export function enableControllers(parent: string, controllers: Controller[]): void {
  if (controllers.length > 0) writeFile(`${parent}/cgroup.subtree_control`, controllers.map((c) => `+${c}`).join(' '));
}

/** Kernel 5.14+: one write SIGKILLs every process of the cgroup, with no race against fork. */
export function killCgroup(dir: string): void {
  if (existsSync(`${dir}/cgroup.kill`)) writeFile(`${dir}/cgroup.kill`, '1');
}

/** How many times the OOM killer killed a process of the cgroup: "oom_kill N" in memory.events. */
export function oomKills(dir: string): number {
  return Number(/^oom_kill (\d+)$/m.exec(readFile(`${dir}/memory.events`))?.[1] ?? 0);
}
