// Step 15: speak OCI. An engine (podman, containerd) writes a bundle, config.json and a root
// filesystem, and calls this runtime as it calls runc: create, start, state, kill, delete.
// Step 14's container side stays; its settings come from config.json, and it ends in execve.
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  constants,
  existsSync,
  fchownSync,
  mkdirSync,
  openSync,
  readSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { flushCompileCache } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { isOpen, writeFile } from '../../shared/kernel/files.ts';
import { InterfaceRequest } from '../../shared/kernel/ifreq.ts';
import * as libc from '../../shared/kernel/libc.ts';
import { spawnInNamespaces } from '../../shared/kernel/namespaces.ts';
import { sleep } from '../../shared/kernel/sleep.ts';
import { applyResources, cgroupDirs, joinCgroup, makeCgroup, removeCgroup } from '../../shared/oci/cgroups.ts';
import { BUNDLE_OPTIONS, EXEC_OPTIONS, ociMain, operands, type Values } from '../../shared/oci/cli.ts';
import { type Config, type Mount, type Process, readConfig } from '../../shared/oci/config.ts';
import { ownConsole } from '../../shared/oci/console.ts';
import { runHooks } from '../../shared/oci/hooks.ts';
import { inRoot, isDirectory, makeMountPoint } from '../../shared/oci/in-root.ts';
import { MS_SLAVE, PROPAGATION, parseMountOptions, REMOUNT_FLAGS } from '../../shared/oci/mount-options.ts';
import { capabilityNumbers, execProcess, lookPath, maskOf, rlimitNumber, withHome } from '../../shared/oci/process.ts';
import { type Agent, listenerMessage, seccompProgram } from '../../shared/oci/seccomp.ts';
import { Container, type Saved, startTimeOf } from '../../shared/oci/state.ts';
import { awaitGo, RUNTIME_FDS, type Settings } from '../../shared/oci/sync.ts';
import { spawnThroughUserNamespace, userNamespaceStage, writeIdMaps } from '../../shared/oci/userns.ts';
import { OTHER_VERBS, VERSION, waitForExit } from '../../shared/oci/verbs.ts';
import { RuntimeError } from '../../shared/runtime/errors.ts';

// config.json's namespace types, as clone(2) flags.
const NAMESPACES = {
  pid: libc.CLONE_NEWPID,
  network: libc.CLONE_NEWNET,
  ipc: libc.CLONE_NEWIPC,
  uts: libc.CLONE_NEWUTS,
  mount: libc.CLONE_NEWNS,
  cgroup: libc.CLONE_NEWCGROUP,
  user: libc.CLONE_NEWUSER,
};

// The children that start the container's process through a user namespace: they say its PID.
const throughUserNamespace = new WeakSet<ChildProcess>();

ociMain(
  {
    create: {
      options: BUNDLE_OPTIONS,
      operands: '<container-id>',
      run: (ids, values, { root }) => create(operands(ids, 1)[0]!, values, root).then(() => 0),
    },
    start: { operands: '<container-id>', run: (ids, _, { root }) => start(new Container(root, operands(ids, 1)[0]!)) },
    run: {
      options: { ...BUNDLE_OPTIONS, detach: { short: 'd' }, keep: {} },
      operands: '<container-id>',
      run: (ids, values, { root }) => run(operands(ids, 1)[0]!, values, root),
    },
    exec: {
      options: EXEC_OPTIONS,
      operands: '<container-id> [command...]',
      run: (words, values, { root }) => exec(operands(words, 1, true), values, root),
    },
    init: { operands: '(internal)', run: () => init() },
    'userns-stage': { operands: '(internal)', run: () => userNamespaceStage() },
    'exec-init': { operands: '(internal)', run: ([pid]) => execInit(Number(pid)) },
    ...OTHER_VERBS, // state, kill, delete, list, ps, pause, resume, update, spec, features
  },
  VERSION,
);

/** `create`: the container made, its first process waiting for `start` in its namespaces. */
async function create(id: string, values: Values, root: string, keepChild = false): Promise<ChildProcess> {
  const bundle = resolve((values.bundle as string) || '.');
  const config = readConfig(bundle, values.config as string | undefined, true); // checked against the spec's schema
  const container = new Container(root, id);
  container.claim();
  const cgroup = cgroupDirs(config.linux?.cgroupsPath || `/${id}`);
  const saved: Saved = {
    ociVersion: config.ociVersion,
    id,
    pid: 0,
    startTime: '',
    bundle,
    rootfs: resolve(bundle, config.root?.path ?? 'rootfs'),
    created: new Date().toISOString(),
    annotations: config.annotations ?? {},
    cgroupDirs: cgroup,
    configFile: resolve(bundle, (values.config as string) || 'config.json'),
  };
  let child: ChildProcess | undefined;
  try {
    // The exec fifo: its first process opens it to write, and the kernel holds it there until
    // `start` opens it to read (runc's design). Writable by all: the process may be no one by then.
    libc.mknod(container.fifo, libc.S_IFIFO | 0o622);
    chmodSync(container.fifo, 0o622); // as asked: mknod took our umask off
    makeCgroup(cgroup);
    child = startInit(config, container, values, keepChild);
    // Its seccomp program, built here (libseccomp is out of its sight after pivot_root), and
    // its settings go with "go"; then its answer: ready, or why not.
    const filters = seccompProgram(config.linux?.seccomp, join(root, 'seccomp'));
    const keyring = values['no-new-keyring'] ? '' : `_ses.${id}`; // runc's name for it
    const listener = (pid: number) => listenerMessage(saved, config.linux?.seccomp, pid, 'creating');
    const settings = (pid: number) => ({ saved, config, filters, keyring, listener: listener(pid) });
    const pid = await handshake(child, (pid) => joinCgroup(cgroup, pid), settings, config);
    // The limits last, once our Node is ready: it runs a dozen threads, each counted by
    // pids.max, and a limit of 5 would stop it starting. The command that replaces it has one.
    applyResources(cgroup, config.linux?.resources, config.linux?.devices);
    container.save({ ...saved, pid, startTime: startTimeOf(pid) }); // from now on `state` sees it: "created"
    const oomScoreAdj = config.process?.oomScoreAdj;
    if (oomScoreAdj !== undefined) writeFile(`/proc/${pid}/oom_score_adj`, `${oomScoreAdj}`); // inherited by the command
    for (const kind of ['createRuntime', 'prestart'] as const)
      runHooks(config, kind, { ociVersion: config.ociVersion, id, status: 'created', pid, bundle }, true);
    if (values['pid-file']) writeFileSync(values['pid-file'] as string, `${pid}`);
    if (!keepChild) child.unref(); // we end; the engine's process (conmon, the shim) becomes its parent
    return child;
  } catch (error) {
    child?.kill('SIGKILL');
    if (child) await waitForExit(child);
    removeCgroup(cgroup);
    container.remove();
    throw error;
  }
}

/** The container's first process: this file again, born in new namespaces (or an engine's, by path). */
function startInit(config: Config, container: Container, values: Values, keepChild: boolean): ChildProcess {
  const namespaces = config.linux?.namespaces ?? [];
  const fresh = namespaces.filter((ns) => !ns.path && ns.type !== 'cgroup').reduce((flags, ns) => flags | NAMESPACES[ns.type], 0);
  const join = namespaces.filter((ns) => ns.path).map((ns) => ({ flag: NAMESPACES[ns.type], path: ns.path! }));
  if (config.hostname && !namespaces.some((ns) => ns.type === 'uts' && !ns.path))
    throw new RuntimeError('config.json: hostname needs a new uts namespace');
  // The descriptors it gets: 0-2, the engine's --preserve-fds and systemd's LISTEN_FDS
  // (3 and on; those we do not have, as none), then ours.
  const preserved = Number(values['preserve-fds'] ?? 0) + (Number(process.env.LISTEN_FDS) || 0);
  const fifo = libc.open(container.fifo, libc.O_PATH | libc.O_CLOEXEC);
  const consoleSocket = values['console-socket'] ? libc.connectUnix(values['console-socket'] as string) : 'ignore';
  const agent = config.linux?.seccomp?.listenerPath ? libc.connectUnix(config.linux.seccomp.listenerPath) : 'ignore';
  const passed = Array.from({ length: preserved }, (_, i) => (isOpen(3 + i) ? 3 + i : 'ignore'));
  const stdio = [0, 1, 2, ...passed, 'pipe', fifo, consoleSocket, agent] as const;
  const args = [import.meta.filename, '--', 'init'];
  const options: SpawnOptions = {
    stdio: [...stdio],
    cwd: dirname(container.fifo),
    env: {
      NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE,
      CFS_FDS: `${3 + preserved}`,
      CFS_LISTEN_FDS: process.env.LISTEN_FDS ?? '', // the container's first process is PID 1: LISTEN_PID=1
      CFS_CGROUP_NS: namespaces.some((ns) => ns.type === 'cgroup' && !ns.path) ? '1' : '',
      CFS_USERNS: namespaces.some((ns) => ns.type === 'user') ? '1' : '', // what root there may not do: mknod, mount sysfs
      CFS_OWN_NET: namespaces.some((ns) => ns.type === 'network' && !ns.path) ? '1' : '',
    },
    detached: config.process?.terminal === true, // a session of its own, whose terminal it will make
  };
  const user = namespaces.find((ns) => ns.type === 'user');
  const child = user
    ? spawnThroughUserNamespace(
        user.path,
        {
          args,
          fresh: fresh & ~libc.CLONE_NEWUSER,
          join: join.filter((ns) => ns.flag !== libc.CLONE_NEWUSER),
          fds: stdio.length,
          stay: keepChild,
          detached: options.detached === true,
        },
        options,
        config,
      )
    : spawnInNamespaces(process.execPath, args, fresh, options, { join });
  if (user) throughUserNamespace.add(child);
  libc.close(fifo);
  for (const fd of [consoleSocket, agent]) if (typeof fd === 'number') libc.close(fd);
  return child;
}

/**
 * Put the waiting process in its place (`placed`: its cgroup), tell it to go on, and
 * resolve with its PID when it is ready. Through a user namespace, its PID comes first,
 * from the Node that started it ("pid N"); else it is our child's.
 */
function handshake(
  child: ChildProcess,
  placed: (pid: number) => void,
  settings: (pid: number) => object,
  config?: Config,
): Promise<number> {
  const sync = child.stdio[child.stdio.length - RUNTIME_FDS]!;
  let pid = 0;
  const go = (found: number) => {
    pid = found;
    placed(pid);
    (sync as NodeJS.WritableStream).write(`go ${JSON.stringify(settings(pid))}\n`);
  };
  return new Promise((resolve, reject) => {
    let answer = '';
    sync.on('data', (chunk) => {
      answer += chunk;
      for (let end = answer.indexOf('\n'); end !== -1; end = answer.indexOf('\n')) {
        const line = answer.slice(0, end);
        answer = answer.slice(end + 1);
        if (line.startsWith('pid ')) go(Number(line.slice(4)));
        else if (line === 'userns') {
          // The helper waits in its new user namespace for its maps (shared/oci/userns.ts).
          writeIdMaps(child.pid!, config!);
          (sync as NodeJS.WritableStream).write('maps\n');
        } else if (line === 'ready')
          resolve(sync.destroy() && pid); // nothing more to say: let us end
        else reject(new RuntimeError(line));
      }
    });
    // No answer and the socket closed: whoever held its other end (the process, or the
    // Node that starts it in a user namespace, which leaves once it has said its PID) is gone.
    sync.on('close', () => reject(new RuntimeError(answer.trim() || "the container's first process ended before it was ready")));
    if (!throughUserNamespace.has(child)) go(child.pid!);
  });
}

/** `start`: open the fifo to read. The kernel lets the waiting process's open return, and it execs. */
function start(container: Container): void {
  const saved = container.load();
  const status = container.status(saved);
  if (status !== 'created') throw new RuntimeError(`cannot start a container that is ${status}`);
  const fifo = openSync(container.fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  // Non-blocking: should it die meanwhile, no writer would ever come, and we would wait forever.
  const byte = Buffer.alloc(1);
  for (;;) {
    // Asked before reading: a process that wrote its byte, ran the command and ended
    // between the two (a quick command) has still been started; its byte is in the pipe.
    const ended = container.status(saved) === 'stopped';
    try {
      if (readSync(fifo, byte) === 1) break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
    if (ended) throw new RuntimeError('container not running: its process ended before start');
    sleep(1);
  }
  unlinkSync(container.fifo); // no fifo: "running"
  runHooks(
    readConfig(saved.bundle, saved.configFile),
    'poststart',
    { ociVersion: saved.ociVersion, id: saved.id, status: 'running', pid: saved.pid, bundle: saved.bundle },
    false,
  );
}

/** `run`: create, start, and (unless --detach) wait for it, pass on its status, delete it. */
async function run(id: string, values: Values, root: string): Promise<number> {
  const { process: spec } = readConfig(resolve((values.bundle as string) || '.'), values.config as string | undefined);
  const console = ownConsole(spec?.terminal === true, values['console-socket'], values.detach); // shared/oci/console.ts
  const child = await create(id, console ? { ...values, 'console-socket': console.path } : values, root, true);
  const relayed = console?.relay();
  const container = new Container(root, id);
  start(container);
  if (values.detach) {
    child.unref();
    return 0;
  }
  const status = await waitForExit(child);
  await relayed; // all it wrote, out
  if (!values.keep) {
    removeCgroup(container.load().cgroupDirs);
    container.remove();
  }
  return status;
}

/** Inside, as its first process: the container set up from config.json, then the command. */
function init(): void {
  const [sync, fifo, consoleSocket, agent] = [0, 1, 2, 3].map((i) => Number(process.env.CFS_FDS) + i) as [number, number, number, number];
  // Its settings come with "go", through the sync socket: in a user namespace, we may not read the state directory.
  const { saved, config, filters, keyring, listener }: Settings = awaitGo(sync);
  const spec = config.process!;
  let program: string;
  try {
    // A session keyring of its own (runc's default; --no-new-keyring keeps the caller's):
    // else the container could read and add to the keys of whoever started the engine.
    if (keyring) libc.joinNewSessionKeyring(keyring);
    if (process.env.CFS_CGROUP_NS) libc.unshare(libc.CLONE_NEWCGROUP); // now that it is in its cgroup: that is its root
    libc.mount(null, '/', null, libc.MS_REC | MS_SLAVE); // nothing we mount reaches the host
    libc.mount(saved.rootfs, saved.rootfs, null, libc.MS_BIND | libc.MS_REC); // pivot_root wants a mount point
    mountAll(saved.rootfs, config.mounts ?? [], saved.cgroupDirs);
    createDevices(`${saved.rootfs}/dev`, config);
    if (config.hostname) libc.sethostname(config.hostname);
    if (config.domainname) libc.setdomainname(config.domainname);
    if (config.linux?.namespaces?.some((ns) => ns.type === 'network' && !ns.path)) bringUpLoopback();
    mkdirSync(`${saved.rootfs}/${spec.cwd}`, { recursive: true }); // as runc: a missing working directory is made (before / may turn read-only)
    pivotInto(saved.rootfs);
    for (const [key, value] of Object.entries(config.linux?.sysctl ?? {})) writeFile(`/proc/sys/${key.replaceAll('.', '/')}`, value);
    maskProc(config.linux?.maskedPaths ?? [], config.linux?.readonlyPaths ?? []);
    const propagation = PROPAGATION[config.linux?.rootfsPropagation ?? ''];
    if (propagation) libc.mount(null, '/', null, propagation); // what its mounts share with the host, if asked
    if (config.root?.readonly) libc.mount(null, '/', null, libc.MS_REMOUNT | libc.MS_BIND | libc.MS_RDONLY);
    if (spec.terminal) takeTerminal(consoleSocket, spec);
    for (const { type, soft, hard } of spec.rlimits ?? []) libc.setrlimit(rlimitNumber(type), BigInt(soft), BigInt(hard));
    process.chdir(spec.cwd);
    spec.env = withHome(spec.env, spec.user.uid);
    if (process.env.CFS_LISTEN_FDS) spec.env.push(`LISTEN_FDS=${process.env.CFS_LISTEN_FDS}`, 'LISTEN_PID=1');
    program = lookPath(spec.args[0]!, spec.env); // found now, or `create` fails with why
    writeSync(sync, 'ready\n');
  } catch (error) {
    writeSync(sync, `${(error as Error).message}\n`);
    process.exit(1);
  }
  waitForStart(fifo);
  dropPrivileges(spec, filters, listener ? { socket: agent, message: listener } : undefined);
  handOver(program, spec);
}

/** `exec`: another process in a running container, in its namespaces and cgroup. */
async function exec([id, ...command]: string[], values: Values, root: string): Promise<number> {
  const container = new Container(root, id!);
  const saved = container.load();
  if (container.status(saved) !== 'running') throw new RuntimeError(`container ${id} is not running`);
  const config = readConfig(saved.bundle, saved.configFile);
  const spec = execProcess(config.process!, command, values);
  // Born in its namespaces but the mount namespace, which it joins itself: Node is not in there.
  const joined = (config.linux?.namespaces ?? [])
    .filter((ns) => ns.type !== 'mount' && ns.type !== 'user') // the user namespace: shared/oci/userns.ts
    .map((ns) => ({ flag: NAMESPACES[ns.type], path: `/proc/${saved.pid}/ns/${ns.type === 'network' ? 'net' : ns.type}` }));
  const consoleSocket = values['console-socket'] ? libc.connectUnix(values['console-socket'] as string) : 'ignore';
  const agent = config.linux?.seccomp?.listenerPath ? libc.connectUnix(config.linux.seccomp.listenerPath) : 'ignore';
  const args = [import.meta.filename, '--', 'exec-init', `${saved.pid}`];
  const options: SpawnOptions = {
    stdio: [0, 1, 2, 'pipe', 'ignore', consoleSocket, agent],
    env: { NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE, CFS_FDS: '3' },
    detached: spec.terminal === true,
  };
  const user = config.linux?.namespaces?.some((ns) => ns.type === 'user');
  const child = user
    ? spawnThroughUserNamespace(
        `/proc/${saved.pid}/ns/user`,
        { args, fresh: 0, join: joined, fds: 7, stay: !values.detach, detached: spec.terminal === true },
        options,
        config,
      )
    : spawnInNamespaces(process.execPath, args, 0, options, { join: joined });
  if (user) throughUserNamespace.add(child);
  for (const fd of [consoleSocket, agent]) if (typeof fd === 'number') libc.close(fd);
  const filters = seccompProgram(config.linux?.seccomp, join(root, 'seccomp'));
  const listener = (pid: number) => listenerMessage(saved, config.linux?.seccomp, pid, 'running');
  const pid = await handshake(
    child,
    (pid) => joinCgroup(saved.cgroupDirs, pid),
    (pid) => ({ spec, filters, listener: listener(pid) }),
  );
  if (values['pid-file']) writeFileSync(values['pid-file'] as string, `${pid}`);
  if (values.detach) {
    child.unref();
    return 0;
  }
  return waitForExit(child);
}

/** Inside, for `exec`: into the container's mount namespace (its root), as it, then the command. */
function execInit(pid: number): void {
  const sync = Number(process.env.CFS_FDS);
  const { spec, filters, listener }: Pick<Settings, 'filters' | 'listener'> & { spec: Process } = awaitGo(sync);
  let program: string;
  try {
    const mnt = openSync(`/proc/${pid}/ns/mnt`, 'r');
    libc.unshare(libc.CLONE_FS); // a thread may change mount namespace only with a root and cwd of its own
    libc.setns(mnt, libc.CLONE_NEWNS); // and moves to its root: the container's
    if (spec.terminal) takeTerminal(sync + 2, spec);
    for (const { type, soft, hard } of spec.rlimits ?? []) libc.setrlimit(rlimitNumber(type), BigInt(soft), BigInt(hard));
    process.chdir(spec.cwd);
    spec.env = withHome(spec.env, spec.user.uid);
    program = lookPath(spec.args[0]!, spec.env);
    writeSync(sync, 'ready\n');
  } catch (error) {
    writeSync(sync, `${(error as Error).message}\n`);
    process.exit(1);
  }
  dropPrivileges(spec, filters, listener ? { socket: sync + 3, message: listener } : undefined);
  handOver(program, spec);
}

/** Step 06, changed: config.json's mounts are made first; pivot_root as before. */
function pivotInto(root: string): void {
  flushCompileCache(); // Node writes its compile cache as it exits, when it is out of sight: now, then
  process.chdir(root);
  libc.pivotRoot('.', '.');
  libc.umount2('.', libc.MNT_DETACH);
  process.chdir('/');
}

/** Step 07: `lo`, down in a new network namespace, brought up as `ip link set lo up` does. */
function bringUpLoopback(): void {
  // Read its flags, add IFF_UP, write them back: ioctl(2)s on any socket of the namespace.
  const fd = libc.socket(libc.AF_INET, libc.SOCK_DGRAM | libc.SOCK_CLOEXEC);
  const lo = new InterfaceRequest('lo'); // struct ifreq: shared/kernel/ifreq.ts
  libc.ioctl(fd, libc.SIOCGIFFLAGS, lo.buffer);
  lo.flags |= libc.IFF_UP;
  libc.ioctl(fd, libc.SIOCSIFFLAGS, lo.buffer);
  libc.close(fd);
}

/** Step 15: config.json's mounts, in order, each under the root filesystem. */
function mountAll(rootfs: string, mounts: Mount[], cgroups: string[]): void {
  for (const { destination, type, source = '', options } of mounts) {
    const target = inRoot(rootfs, destination); // its symlinks followed inside the root filesystem, never out
    const { flags, propagation, data } = parseMountOptions(options);
    const bind = (flags & libc.MS_BIND) !== 0 || type === 'bind';
    makeMountPoint(target, bind ? source : '');
    if (type === 'cgroup' || type === 'cgroup2') {
      mountCgroups(target, flags, cgroups);
    } else if (bind) {
      // A bind mount ignores the other flags on its first call: a remount applies them.
      libc.mount(source, target, null, libc.MS_BIND | (flags & libc.MS_REC));
      if (flags & REMOUNT_FLAGS) libc.mount(null, target, null, libc.MS_REMOUNT | libc.MS_BIND | (flags & REMOUNT_FLAGS));
    } else {
      // sysfs belongs to the network namespace's owner: from a user namespace with the host's
      // network, the kernel says EPERM, and runc binds the host's /sys instead (read-only, as asked).
      if (type === 'sysfs' && process.env.CFS_USERNS && !process.env.CFS_OWN_NET)
        libc.mount('/sys', target, null, libc.MS_BIND | libc.MS_REC);
      else libc.mount(source || type!, target, type!, flags, data || null);
    }
    if (propagation) libc.mount(null, target, null, propagation);
  }
}

/** Step 15: the container's own cgroup (not the host's tree) where it mounts "cgroup": each of its directories, bound. */
function mountCgroups(target: string, flags: number, cgroups: string[]): void {
  if (cgroups.length === 1) {
    // v2: its one directory. (v1, hybrid: a tmpfs, and in it a directory per hierarchy.)
    libc.mount(cgroups[0]!, target, null, libc.MS_BIND);
    libc.mount(null, target, null, libc.MS_REMOUNT | libc.MS_BIND | (flags & REMOUNT_FLAGS));
    return;
  }
  libc.mount('tmpfs', target, 'tmpfs', flags & ~libc.MS_RDONLY, 'mode=755');
  for (const dir of cgroups) {
    const name = dir.split('/')[4]!; // /sys/fs/cgroup/<hierarchy>/...: "memory", "cpu,cpuacct", "unified"
    mkdirSync(`${target}/${name}`);
    libc.mount(dir, `${target}/${name}`, null, libc.MS_BIND);
    libc.mount(null, `${target}/${name}`, null, libc.MS_REMOUNT | libc.MS_BIND | (flags & REMOUNT_FLAGS));
  }
  if (flags & libc.MS_RDONLY) libc.mount(null, target, null, libc.MS_REMOUNT | (flags & REMOUNT_FLAGS));
}

/** Step 15: /dev's devices, made (we are root on the host here): the config's and the usual six; its links. */
function createDevices(dev: string, config: Config): void {
  const usual = ['null:1:3', 'zero:1:5', 'full:1:7', 'random:1:8', 'urandom:1:9', 'tty:5:0'].map((entry) => {
    const [name, major, minor] = entry.split(':');
    return { type: 'c', path: `/dev/${name}`, major: Number(major), minor: Number(minor), fileMode: 0o666, uid: 0, gid: 0 };
  });
  const given = config.linux?.devices ?? [];
  for (const device of [...given, ...usual.filter((u) => !given.some((d) => d.path === u.path))]) {
    const path = `${dev}/..${device.path}`;
    if (existsSync(path)) continue;
    mkdirSync(dirname(path), { recursive: true });
    const type = device.type === 'b' ? 0o060000 : device.type === 'p' ? libc.S_IFIFO : libc.S_IFCHR;
    if (process.env.CFS_USERNS) {
      // Root of a user namespace may not mknod (step 14): the host's node, bound on an empty file.
      writeFileSync(path, '');
      libc.mount(device.path, path, null, libc.MS_BIND);
      continue;
    }
    libc.mknod(path, type | ((device.fileMode ?? 0o666) & 0o7777), device.major ?? 0, device.minor ?? 0);
    chownSync(path, device.uid ?? 0, device.gid ?? 0);
  }
  const links: Record<string, string> = {
    fd: '/proc/self/fd',
    stdin: '/proc/self/fd/0',
    stdout: '/proc/self/fd/1',
    stderr: '/proc/self/fd/2',
  };
  if (existsSync(`${dev}/pts/ptmx`)) links.ptmx = 'pts/ptmx';
  for (const [link, target] of Object.entries(links)) if (!existsSync(`${dev}/${link}`)) symlinkSync(target, `${dev}/${link}`);
}

/** Step 14, changed: the paths come from config.json (maskedPaths, readonlyPaths). */
function maskProc(masked: string[], readOnly: string[]): void {
  for (const path of masked.filter(existsSync)) {
    // A directory under an empty read-only tmpfs, a file under /dev/null.
    if (isDirectory(path)) libc.mount('tmpfs', path, 'tmpfs', libc.MS_RDONLY, null);
    else libc.mount('/dev/null', path, null, libc.MS_BIND);
  }
  for (const path of readOnly.filter(existsSync)) libc.mount(path, path, null, libc.MS_BIND | libc.MS_REC);
  const flags = libc.MS_REMOUNT | libc.MS_BIND | libc.MS_RDONLY | libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC;
  for (const path of readOnly.filter(existsSync)) libc.mount(null, path, null, flags);
}

/** Step 15: the pty runc makes: in the container's devpts, its master sent to the engine (SCM_RIGHTS). */
function takeTerminal(consoleSocket: number, spec: Process): void {
  const { master, slavePath } = libc.openPseudoTerminal(); // /dev/ptmx: the container's own devpts
  if (spec.consoleSize) libc.setWindowSize(master, spec.consoleSize.height, spec.consoleSize.width);
  libc.sendFd(consoleSocket, master, slavePath);
  libc.close(master);
  const slave = openSync(slavePath, 'r+');
  fchownSync(slave, spec.user.uid, spec.user.gid);
  libc.ioctlValue(slave, libc.TIOCSCTTY, 0); // our session's (spawned detached) controlling terminal
  for (const fd of [0, 1, 2]) libc.dup2(slave, fd);
}

/** Step 15: wait, as runc's init does, for `start` to open the fifo; then it is running. */
function waitForStart(fifo: number): void {
  // Open it through our O_PATH descriptor (its path is out of sight since pivot_root):
  // open(2) blocks until a reader comes.
  const fd = libc.open(`/proc/self/fd/${fifo}`, libc.O_WRONLY | libc.O_CLOEXEC);
  writeSync(fd, '0');
  libc.close(fd);
}

/** Step 14, changed: all five capability sets, the user, no new privileges, the filter, from config.json. */
function dropPrivileges({ user, capabilities: caps = {}, noNewPrivileges }: Process, filters: string[], agent?: Agent): void {
  const bounding = maskOf(caps.bounding);
  for (const cap of capabilityNumbers()) if (!(bounding & (1n << BigInt(cap)))) libc.prctl(libc.PR_CAPBSET_DROP, cap);
  // Without no_new_privs, only CAP_SYS_ADMIN may install a filter: now, while we have it.
  const install = () => {
    for (const f of filters) {
      if (!agent) libc.seccomp(libc.SECCOMP_SET_MODE_FILTER, libc.SECCOMP_FILTER_FLAG_TSYNC, Buffer.from(f, 'base64'));
      else {
        // seccomp notify: the engine's agent gets the listener, and answers for the kernel
        const listener = libc.seccompWithListener(Buffer.from(f, 'base64'));
        libc.sendFd(agent.socket, listener, agent.message);
        libc.close(listener); // the agent has its own now: not the command's to keep
      }
    }
  };
  if (!noNewPrivileges) install();
  libc.prctl(libc.PR_SET_KEEPCAPS, 1); // setuid away from root would empty the permitted set
  libc.setIdentity(user.uid, user.gid, user.additionalGids ?? []);
  libc.capsetAll(maskOf(caps.effective), maskOf(caps.permitted), maskOf(caps.inheritable));
  // The kernel raises an ambient capability only if it is permitted and inheritable; runc
  // skips the others (runc spec's own config asks for three it cannot have), so do we.
  const ambient = maskOf(caps.ambient) & maskOf(caps.permitted) & maskOf(caps.inheritable);
  for (const cap of capabilityNumbers()) if (ambient & (1n << BigInt(cap))) libc.prctl(libc.PR_CAP_AMBIENT, libc.PR_CAP_AMBIENT_RAISE, cap);
  if (noNewPrivileges) libc.prctl(libc.PR_SET_NO_NEW_PRIVS, 1);
  if (noNewPrivileges) install();
}

/** Step 15: become the command: execve(2), the same PID, no Node left. */
function handOver(program: string, spec: Process): never {
  // Only 0, 1, 2 and the engine's --preserve-fds pass: whatever else we were given (a
  // caller's descriptor, say) closes. And Node marks even 0, 1 and 2 close-on-exec: those pass.
  libc.closeOnExecFrom(Number(process.env.CFS_FDS));
  for (let fd = 0; fd < Number(process.env.CFS_FDS); fd++) if (isOpen(fd)) libc.inheritable(fd);
  if (spec.user.umask !== undefined) process.umask(spec.user.umask);
  try {
    libc.execve(program, spec.args, spec.env ?? []);
  } catch (error) {
    writeSync(2, `${(error as Error).message}\n`);
    process.exit(127);
  }
}
