// Where the runtime keeps what it knows of each container between its calls: every verb
// is a new process (create, start, kill, delete), so the state is files, as runc's,
// <root>/<id>/state.json and the exec fifo beside it. The status is never stored: it is
// read from the kernel each time (is the process there, has `start` opened the fifo).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RuntimeError } from '../runtime/errors.ts';

/** runc's default is /run/runc; podman asks `state` with no --root, so this default must hold. */
export const DEFAULT_ROOT = '/run/container-from-scratch/oci';

export interface Saved {
  ociVersion: string;
  id: string;
  pid: number;
  startTime: string; // field 22 of /proc/<pid>/stat: tells our process from a later one given the same PID
  bundle: string;
  rootfs: string;
  created: string; // RFC 3339
  annotations: Record<string, string>;
  cgroupDirs: string[];
  configFile: string;
}

// No "creating": as runc's, state.json is written once the container is created; until then it does not exist.
export type Status = 'created' | 'running' | 'paused' | 'stopped';

// An ID is a file name here: nothing that could climb out of the root.
const VALID_ID = /^[\w+\-.]+$/;

export class Container {
  readonly dir: string;
  readonly id: string;
  constructor(root: string, id: string) {
    if (!VALID_ID.test(id) || id === '.' || id === '..') throw new RuntimeError(`invalid container id: ${id}`);
    this.id = id;
    this.dir = join(root, id);
  }
  get fifo(): string {
    return join(this.dir, 'exec.fifo');
  }
  exists(): boolean {
    return existsSync(join(this.dir, 'state.json'));
  }
  /** Claim the ID: the directory is made once, so two creates cannot both have it. */
  claim(): void {
    mkdirSync(join(this.dir, '..'), { recursive: true, mode: 0o700 });
    try {
      mkdirSync(this.dir, { mode: 0o711 });
    } catch {
      throw new RuntimeError(`container with id ${this.id} already exists`);
    }
  }
  load(): Saved {
    try {
      return JSON.parse(readFileSync(join(this.dir, 'state.json'), 'utf8'));
    } catch {
      throw new RuntimeError(`container ${this.id} does not exist`);
    }
  }
  save(saved: Saved): void {
    const file = join(this.dir, 'state.json');
    writeFileSync(`${file}.new`, JSON.stringify(saved));
    renameSync(`${file}.new`, file); // whole or not at all: `state` may read it meanwhile
  }
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
  /** What the kernel says of it now. */
  status(saved: Saved): Status {
    if (!sameProcess(saved.pid, saved.startTime)) return 'stopped';
    if (existsSync(this.fifo)) return 'created'; // waiting for `start` to open the fifo
    const freezer = saved.cgroupDirs.find((dir) => existsSync(join(dir, 'freezer.state')) || existsSync(join(dir, 'cgroup.freeze')));
    if (freezer && isFrozen(freezer)) return 'paused';
    return 'running';
  }
}

/** The IDs under `root`. */
export function containerIds(root: string): string[] {
  try {
    return readdirSync(root).filter((id) => existsSync(join(root, id, 'state.json')));
  } catch {
    return [];
  }
}

/** Field 22 of /proc/<pid>/stat, the process's start time; "" when it is gone or a zombie. */
export function startTimeOf(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // the name may hold spaces
    return fields[0] === 'Z' || fields[0] === 'X' ? '' : fields[19]!;
  } catch {
    return '';
  }
}

function sameProcess(pid: number, startTime: string): boolean {
  return pid > 0 && startTimeOf(pid) === startTime;
}

function isFrozen(dir: string): boolean {
  try {
    return existsSync(join(dir, 'freezer.state'))
      ? readFileSync(join(dir, 'freezer.state'), 'utf8').trim() === 'FROZEN'
      : readFileSync(join(dir, 'cgroup.freeze'), 'utf8').trim() === '1';
  } catch {
    return false;
  }
}
