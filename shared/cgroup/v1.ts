// What only cgroup v1 has, or names otherwise.
import { readFile } from '../kernel/files.ts';

/** How many times the OOM killer killed a process of the cgroup (kernel 4.13+): "oom_kill N" in memory.oom_control. */
export function oomKills(memoryDir: string): number {
  return Number(/^oom_kill (\d+)$/m.exec(readFile(`${memoryDir}/memory.oom_control`))?.[1] ?? 0);
}
