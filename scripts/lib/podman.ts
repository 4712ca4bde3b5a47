// podman, for the bench and the engine tests (test/harness/engines.ts): an image built
// offline, the configuration this machine needs, and the bench's two podman rows: our OCI
// runtime (step 15) next to runc, driven by the same podman, same storage, same image.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { removeLeftoverCgroups } from '../../shared/cgroup/lifecycle.ts';
import { mount } from '../../shared/kernel/libc.ts';
import { readMounts } from '../../shared/kernel/mountinfo.ts';
import { DEFAULT_CGROUP_PARENT } from '../../shared/runtime/config.ts';

/**
 * The image, as a tar of a root filesystem (for `podman import`), made in `dir`:
 * busybox-static, the binary itself copied (a symlink to the machine's busybox would
 * dangle in the image), and one symlink per applet to it, as busybox --install -s makes them.
 */
export function busyboxImage(dir: string): string {
  const rootfs = path.join(dir, 'rootfs');
  for (const sub of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp']) mkdirSync(path.join(rootfs, sub), { recursive: true });
  const busybox = realpathSync('/bin/busybox'); // /bin may hold a link to it
  // ldd fails on a static binary; a dynamic one would find no libc in the image
  if (spawnSync('ldd', [busybox], { stdio: 'ignore' }).status === 0) {
    throw new Error(`${busybox} is not static: sudo apt-get install busybox-static`);
  }
  copyFileSync(busybox, path.join(rootfs, 'bin/busybox'));
  for (const applet of execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n')) {
    if (applet && applet !== 'busybox') symlinkSync('busybox', path.join(rootfs, 'bin', applet));
  }
  const tar = path.join(dir, 'image.tar');
  execFileSync('tar', ['-C', rootfs, '-cf', tar, '.']);
  rmSync(rootfs, { recursive: true });
  return tar;
}

/**
 * containers.conf (CONTAINERS_CONF=<file>) for this machine: podman asks for RLIMIT_NOFILE
 * and RLIMIT_NPROC of 1048576 by default; here the hard RLIMIT_NOFILE is 20000, and
 * without CAP_SYS_RESOURCE no runtime may raise a hard limit: runc fails ("error setting
 * rlimit type 7: operation not permitted"). netns none: no network for the containers
 * (no netavark, no firewall rules on the machine).
 */
export const CONTAINERS_CONF = `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
netns = "none"
`;

// ---------------------------------------------------------------------------------
// The bench's rows. It runs them in its own mount namespace (scripts/bench.ts), in `work`,
// a tmpfs that ends with it; what podman writes elsewhere is made the bench's own below.
// Not in a PID namespace: cleanUp() ends what the containers left.
const IMAGE = 'localhost/cfs-bench:latest';
const PARENT = `${DEFAULT_CGROUP_PARENT}/cfs-bench-podman`; // the containers' cgroups, removed at the end

export interface PodmanBench {
  runtimes: { label: string; path: string }[];
  /** podman run --rm IMAGE <command> with that runtime. */
  argv(runtime: string, command: string[]): string[];
  /** A container that sleeps, with each runtime: what all the processes of its cgroup hold. */
  memory(): ContainerMemory[];
  /** Containers, their processes and cgroups gone. */
  cleanUp(): void;
}

export interface ContainerMemory {
  label: string;
  failure?: string;
  processes?: number;
  rss?: number; // bytes: the sum of their VmRSS
  pss?: number; // bytes: the sum of their Pss
  cgroup?: number; // bytes: the memory cgroup's own count (v1 memory.usage_in_bytes, v2 memory.current)
}

/** podman ready in `work` with the image imported; a string says why not. */
export function setUpPodman(work: string, ours: string): PodmanBench | string {
  const dir = path.join(work, 'podman');
  mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  // podman's locks: /dev/shm/libpod_lock, one file for every podman whatever its --root
  // (no IPC namespace separates POSIX shared memory): a /dev/shm of the bench's own.
  mount('cfs-bench-shm', '/dev/shm', 'tmpfs', 0, 'mode=1777');
  const globals = ['--root', `${dir}/root`, '--runroot', `${dir}/run`, '--tmpdir', `${dir}/libpod`];
  globals.push('--cgroup-manager', 'cgroupfs', '--events-backend', 'file');
  // (cwd: conmon writes a file "oom" in its working directory when a container meets its memory limit)
  const podman = (...args: string[]) => spawnSync('podman', [...globals, ...args], { cwd: dir, encoding: 'utf8' });
  // An image copy writes /var/lib/containers/cache, whatever the --root: the import runs
  // in a mount namespace of its own, where /var/lib is an empty tmpfs. (Not the bench's
  // whole namespace: the steps keep their images and layers in /var/lib.)
  const hidden = ['--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs cfs-var-lib /var/lib && exec "$@"', 'sh'];
  const imported = spawnSync('unshare', [...hidden, 'podman', ...globals, 'import', '-q', busyboxImage(dir), IMAGE], {
    env: { ...process.env, TMPDIR: path.join(dir, 'tmp') },
    encoding: 'utf8',
  });
  if (imported.status !== 0) return `podman import: ${imported.stderr.trim().split('\n').at(-1)}`;
  // What containers.conf gives the tests (CONTAINERS_CONF above), as flags: the timed
  // runs take the bench's environment. The cgroup parent of podman's choice, libpod_parent
  // in every tree, would outlive the bench: one under ours instead, removed at the end.
  const run = (runtime: string) => [
    'podman',
    ...globals,
    '--runtime',
    runtime,
    'run',
    ...['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--network', 'none'],
    ...['--cgroup-parent', `/${PARENT}`],
  ];
  let cleaned = false;
  const runtimes = [
    { label: `ours (${ours})`, path: ours },
    { label: 'runc', path: 'runc' },
  ];
  return {
    runtimes,
    argv: (runtime, command) => [...run(runtime), '--rm', IMAGE, ...command],
    memory: () =>
      runtimes.map(({ label, path: runtime }) => {
        const [file, ...args] = run(runtime);
        const started = spawnSync(file!, [...args, '-d', IMAGE, 'sleep', '1000'], { cwd: dir, encoding: 'utf8' });
        const id = started.stdout.trim();
        if (started.status !== 0) return { label, failure: started.stderr.trim().split('\n').at(-1) ?? `status ${started.status}` };
        try {
          return { label, ...memoryOf(`libpod-${id}`) };
        } finally {
          podman('rm', '-f', '-t', '0', id);
        }
      }),
    cleanUp() {
      if (cleaned) return;
      cleaned = true;
      // (not once `work` is gone: podman would make its storage again, in the machine's /tmp)
      if (existsSync(`${dir}/root`)) podman('rm', '-a', '-f', '-t', '0');
      for (const { mountPoint } of cgroupTrees()) killAll(`${mountPoint}/${PARENT}`);
      removeLeftoverCgroups(PARENT);
      for (const { mountPoint } of cgroupTrees()) {
        try {
          rmdirSync(`${mountPoint}/${DEFAULT_CGROUP_PARENT}`); // where empty, as a runtime does
        } catch {
          // not empty, or not there
        }
      }
    },
  };
}

const cgroupTrees = () => readMounts().filter(({ type }) => type === 'cgroup' || type === 'cgroup2');

/** The PIDs in a cgroup and below it. */
function pidsUnder(dir: string): number[] {
  if (!existsSync(dir)) return [];
  const here = readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n').filter(Boolean).map(Number);
  const below = readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory());
  return [...here, ...below.flatMap((entry) => pidsUnder(`${dir}/${entry.name}`))];
}

function killAll(dir: string): void {
  for (const pid of pidsUnder(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** A "Name:  N kB" line of a /proc/<pid> file, in bytes; 0 when the process is gone. */
function kilobytes(file: string, name: string): number {
  try {
    return Number(readFileSync(file, 'utf8').match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/**
 * Every process in the container's cgroup (in any tree: a runtime might leave one of its
 * own in one of them), once `sleep` runs there: their RSS and Pss added up, and what the
 * memory cgroup counts (page cache and kernel memory too).
 */
function memoryOf(name: string): Omit<ContainerMemory, 'label'> {
  const dirs = cgroupTrees().map(({ mountPoint }) => `${mountPoint}/${PARENT}/${name}`);
  const comm = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      return '';
    }
  };
  // podman run -d returns once the runtime's start did: sleep is running, or about to
  let pids: number[] = [];
  for (let tries = 0; tries < 200 && !pids.some((pid) => comm(pid) === 'sleep'); tries++) {
    pids = [...new Set(dirs.flatMap(pidsUnder))];
    if (!pids.some((pid) => comm(pid) === 'sleep')) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10); // 10 ms
  }
  const memoryDir = dirs.find((dir) => existsSync(`${dir}/memory.usage_in_bytes`) || existsSync(`${dir}/memory.current`));
  const usage = (file: string) => (existsSync(file) ? Number(readFileSync(file, 'utf8')) : 0);
  return {
    processes: pids.length,
    rss: pids.reduce((sum, pid) => sum + kilobytes(`/proc/${pid}/status`, 'VmRSS'), 0),
    pss: pids.reduce((sum, pid) => sum + kilobytes(`/proc/${pid}/smaps_rollup`, 'Pss'), 0),
    cgroup: memoryDir ? usage(`${memoryDir}/memory.usage_in_bytes`) || usage(`${memoryDir}/memory.current`) : undefined,
  };
}
