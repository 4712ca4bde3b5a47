// The one FFI binding to the C library. Every syscall a step makes goes through here,
// and every failure becomes a SyscallError that names the call and the errno.
//
// All calls are synchronous on purpose: they run on Node's main thread, the thread
// that later forks the child. koffi's async calls run on worker threads, and
// namespaces (unshare, setns) and chroot belong to the *calling thread*.
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { SyscallError } from '../runtime/errors.ts';

const koffi = loadKoffi();
const lib = koffi.load('libc.so.6');

/**
 * koffi's entry point costs ~12 ms at every start (it imports node:util, whose ES
 * module wrapper evaluates all of util), and a container starts Node twice. What we
 * use is its native part, prebuilt for each platform: load that when it is there.
 */
export function loadKoffi(): typeof import('koffi').default {
  const require = createRequire(import.meta.url);
  const platform = `${process.platform}-${process.arch}`; // linux-x64
  try {
    return require(`@koromix/koffi-${platform}/${platform.replace('-', '_')}/koffi.node`);
  } catch {
    return require('koffi'); // another layout (musl, a build from source): the usual way
  }
}

koffi.struct('iovec', { base: 'void *', len: 'size_t' });
koffi.struct('msghdr', {
  name: 'void *',
  namelen: 'uint32_t',
  iov: 'iovec *',
  iovlen: 'size_t',
  control: 'void *',
  controllen: 'size_t',
  flags: 'int',
});
const c = {
  unshare: lib.func('int unshare(int flags)'),
  setns: lib.func('int setns(int fd, int nstype)'),
  sethostname: lib.func('int sethostname(const char *name, size_t len)'),
  chroot: lib.func('int chroot(const char *path)'),
  mount: lib.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
  umount2: lib.func('int umount2(const char *target, int flags)'),
  pivot_root: lib.func('int pivot_root(const char *new_root, const char *put_old)'),
  prctl: lib.func('int prctl(int option, ...)'),
  capset: lib.func('int capset(const void *header, const void *data)'),
  syscall: lib.func('long syscall(long number, ...)'), // for seccomp(2), which glibc does not wrap
  memfd_create: lib.func('int memfd_create(const char *name, unsigned int flags)'),
  setpgid: lib.func('int setpgid(int pid, int pgid)'),
  tcsetpgrp: lib.func('int tcsetpgrp(int fd, int pgrp)'),
  pthread_sigmask: lib.func('int pthread_sigmask(int how, const uint8_t *set, _Out_ uint8_t *oldset)'),
  waitid: lib.func('int waitid(int idtype, uint32_t id, uint8_t *info, int options)'),
  waitpid: lib.func('int waitpid(int pid, int *status, int options)'),
  strerror: lib.func('const char *strerror(int errnum)'),
  socket: lib.func('int socket(int domain, int type, int protocol)'),
  bind: lib.func('int bind(int sockfd, const void *addr, uint32_t addrlen)'),
  ioctl: lib.func('int ioctl(int fd, unsigned long request, ...)'),
  close: lib.func('int close(int fd)'),
  setsid: lib.func('int setsid(void)'),
  posix_openpt: lib.func('int posix_openpt(int flags)'),
  grantpt: lib.func('int grantpt(int fd)'),
  unlockpt: lib.func('int unlockpt(int fd)'),
  ptsname_r: lib.func('int ptsname_r(int fd, _Out_ char *buf, size_t buflen)'),
  flock: lib.func('int flock(int fd, int operation)'),
  close_range: lib.func('int close_range(unsigned int first, unsigned int last, int flags)'),
  mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
  lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const char *value, size_t size, int flags)'),
  // The new mount API (Linux 5.2, glibc 2.36): a mount made in steps, as a file descriptor.
  fsopen: lib.func('int fsopen(const char *fsname, unsigned int flags)'),
  fsconfig: lib.func('int fsconfig(int fd, unsigned int cmd, const char *key, const char *value, int aux)'),
  fsmount: lib.func('int fsmount(int fd, unsigned int flags, unsigned int attr_flags)'),
  move_mount: lib.func('int move_mount(int from_dfd, const char *from_path, int to_dfd, const char *to_path, unsigned int flags)'),
  // What an OCI runtime's container process does last (steps 15+): its own identity and
  // limits, its descriptors, then execve into the command.
  open: lib.func('int open(const char *path, int flags, uint32_t mode)'),
  fcntl: lib.func('int fcntl(int fd, int cmd, ...)'),
  dup2: lib.func('int dup2(int oldfd, int newfd)'),
  setresuid: lib.func('int setresuid(uint32_t ruid, uint32_t euid, uint32_t suid)'),
  setresgid: lib.func('int setresgid(uint32_t rgid, uint32_t egid, uint32_t sgid)'),
  setgroups: lib.func('int setgroups(size_t size, const uint32_t *list)'),
  prlimit: lib.func('int prlimit(int pid, int resource, const uint64_t *limit, uint64_t *old)'),
  setdomainname: lib.func('int setdomainname(const char *name, size_t len)'),
  connect: lib.func('int connect(int sockfd, const void *addr, uint32_t addrlen)'),
  listen: lib.func('int listen(int sockfd, int backlog)'),
  accept4: lib.func('int accept4(int sockfd, void *addr, void *addrlen, int flags)'),
  recvmsg: lib.func('long recvmsg(int sockfd, _Inout_ msghdr *msg, int flags)'),
  sendmsg: lib.func('long sendmsg(int sockfd, const msghdr *msg, int flags)'),
  execve: lib.func('int execve(const char *path, const char **argv, const char **envp)'),
};

// clone(2) / unshare(2) flags: one per namespace.
export const CLONE_FS = 0x00000200; // root and cwd: unshare it to setns a mount namespace
export const CLONE_NEWNS = 0x00020000; // mount
export const CLONE_NEWCGROUP = 0x02000000;
export const CLONE_NEWUTS = 0x04000000; // hostname and NIS domain name
export const CLONE_NEWIPC = 0x08000000; // System V IPC, POSIX message queues
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;

// mount(2) flags.
export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_REMOUNT = 0x20;
export const MS_BIND = 0x1000;
export const MS_REC = 0x4000;
export const MS_PRIVATE = 0x40000;

// close_range(2) flag: mark the descriptors close-on-exec rather than close them.
const CLOSE_RANGE_CLOEXEC = 4;

// flock(2) operations, and its answer when another holds the lock.
const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;

// umount2(2) flags.
export const MNT_DETACH = 0x2;

// The new mount API's constants (fsopen, fsconfig, fsmount, move_mount).
const FSOPEN_CLOEXEC = 0x1;
const FSCONFIG_SET_STRING = 1;
const FSCONFIG_CMD_CREATE = 6;
const FSMOUNT_CLOEXEC = 0x1;
const AT_FDCWD = -100;
const MOVE_MOUNT_F_EMPTY_PATH = 0x4;

// prctl(2) option, waitid(2) and waitpid(2) constants.
export const PR_SET_PDEATHSIG = 1;
export const PR_CAPBSET_DROP = 24; // drop a capability from this thread's bounding set
export const PR_SET_NO_NEW_PRIVS = 38; // execve grants nothing more: no setuid, no file capabilities
export const PR_SET_KEEPCAPS = 8; // keep the permitted capabilities across setuid away from root
export const PR_CAP_AMBIENT = 47; // with PR_CAP_AMBIENT_RAISE: a capability kept across execve by a non-root program
export const PR_CAP_AMBIENT_RAISE = 2;

// seccomp(2): the operation, its flags, and a syscall's number by architecture.
export const SECCOMP_SET_MODE_FILTER = 1;
const MFD_CLOEXEC = 1;
export const SECCOMP_FILTER_FLAG_TSYNC = 1; // every thread of the process, not the caller alone
const SECCOMP_FILTER_FLAG_NEW_LISTENER = 8; // and a descriptor where the kernel's questions (SCMP_ACT_NOTIFY) come
const SECCOMP_FILTER_FLAG_TSYNC_ESRCH = 16; // with TSYNC: a thread that cannot take it is ESRCH, not its ID (the fd is the answer)
const SYS_SECCOMP: Record<string, number> = { x64: 317, arm64: 277 };
const SYS_KEYCTL: Record<string, number> = { x64: 250, arm64: 219 }; // keyctl(2): glibc has no wrapper either
const KEYCTL_JOIN_SESSION_KEYRING = 1;
koffi.struct('sock_fprog', { len: 'uint16_t', filter: 'uint8_t *' }); // by its name in seccomp() below
const SIG_BLOCK = 0;
const SIG_SETMASK = 2;
export const P_ALL = 0;
export const WNOHANG = 0x1;
export const WEXITED = 0x4;
export const WNOWAIT = 0x01000000;

// socket(2), and the ioctl(2)s that read and set a network interface's flags
// (they take a struct ifreq: the interface's name, then its flags).
export const AF_INET = 2;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_CLOEXEC = 0x80000;
export const SIOCGIFFLAGS = 0x8913;
export const SIOCSIFFLAGS = 0x8914;
export const SIOCGIFADDR = 0x8915;
export const IFF_UP = 0x1;
export const IFF_RUNNING = 0x40;
// The terminal ioctl(2)s (see tty_ioctl(4)): make a terminal ours, set its size.
export const TIOCSCTTY = 0x540e;
const TIOCSWINSZ = 0x5414;
const IOCTL_NAMES: Record<number, string> = {
  [SIOCGIFFLAGS]: 'SIOCGIFFLAGS',
  [SIOCSIFFLAGS]: 'SIOCSIFFLAGS',
  [TIOCSCTTY]: 'TIOCSCTTY',
  [TIOCSWINSZ]: 'TIOCSWINSZ',
};

/** The text of an errno, as the C library words it ("Operation not permitted"). */
function strerror(errno: number): string {
  return c.strerror(errno) as string;
}

/**
 * A failed Node fs call (on /sys/fs/cgroup, say) as a SyscallError, worded like the
 * others: "write 32 to /sys/fs/cgroup/x/pids.max: EINVAL (Invalid argument)".
 */
export function fsError(call: string, error: unknown): unknown {
  const errno = (error as NodeJS.ErrnoException | undefined)?.errno;
  return typeof errno === 'number' ? new SyscallError(call, -errno, strerror(-errno)) : error;
}

// Syscalls return -1 and set errno on failure. koffi saves errno right after the
// call, before any JavaScript can overwrite it.
function check(call: string, result: number): number {
  if (result === -1) throw new SyscallError(call, koffi.errno(), strerror(koffi.errno()));
  return result;
}

export function unshare(flags: number): void {
  check('unshare', c.unshare(flags));
}

export function setns(fd: number, nstype: number): void {
  check('setns', c.setns(fd, nstype));
}

export function sethostname(name: string): void {
  check('sethostname', c.sethostname(name, Buffer.byteLength(name)));
}

export function chroot(path: string): void {
  check('chroot', c.chroot(path));
}

export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null = null): void {
  check(`mount ${target}`, c.mount(source, target, fstype, flags, data));
}

/**
 * A new mount of `fstype` with `options` (key=value strings), not attached anywhere
 * yet: a file descriptor that attachMount() puts in place, maybe in another mount
 * namespace. The filesystem is set up (and its paths looked up) here and now.
 */
export function detachedMount(fstype: string, options: Record<string, string>): number {
  const context = check(`fsopen ${fstype}`, c.fsopen(fstype, FSOPEN_CLOEXEC));
  try {
    for (const [key, value] of Object.entries(options)) {
      check(`fsconfig ${fstype} ${key}=${value}`, c.fsconfig(context, FSCONFIG_SET_STRING, key, value, 0));
    }
    check(`fsconfig ${fstype} (create)`, c.fsconfig(context, FSCONFIG_CMD_CREATE, null, null, 0));
    return check(`fsmount ${fstype}`, c.fsmount(context, FSMOUNT_CLOEXEC, 0));
  } finally {
    close(context);
  }
}

/** Attach a mount made by detachedMount() at `target`, in this mount namespace. */
export function attachMount(mountFd: number, target: string): void {
  check(`move_mount ${target}`, c.move_mount(mountFd, '', AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH));
}

export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

/** mknod(2): a device node (S_IFCHR, major:minor) or a FIFO (S_IFIFO), which Node cannot make. */
export function mknod(path: string, mode: number, major = 0, minor = 0): void {
  // dev_t as glibc's makedev() packs it: minor's low 8 bits, major's 12, then the rest
  const dev = (minor & 0xff) + (major & 0xfff) * 0x100 + (minor >>> 8) * 0x100000;
  check(`mknod ${path}`, c.mknod(path, mode, dev));
}

/** An extended attribute on `path` itself (not what it links to). */
export function lsetxattr(path: string, name: string, value: string): void {
  check(`setxattr ${name} on ${path}`, c.lsetxattr(path, name, value, Buffer.byteLength(value), 0));
}

export function umount2(target: string, flags = 0): void {
  check(`umount2 ${target}`, c.umount2(target, flags));
}

export function pivotRoot(newRoot: string, putOld: string): void {
  check('pivot_root', c.pivot_root(newRoot, putOld));
}

/** prctl(option, arg[, arg2]): the options used here take one or two numbers; the kernel wants the rest 0. */
export function prctl(option: number, arg: number, arg2 = 0): void {
  const zero = ['unsigned long', 0];
  check(`prctl ${option}`, c.prctl(option, 'unsigned long', arg, 'unsigned long', arg2, ...zero, ...zero));
}

/**
 * capset(2): this thread's effective and permitted capabilities become `keep` (a mask,
 * bit n for capability n), its inheritable ones none (_LINUX_CAPABILITY_VERSION_3).
 */
export function capset(keep: bigint): void {
  const header = Buffer.alloc(8); // version, pid (0: this thread)
  header.writeUInt32LE(0x20080522, 0);
  // Two struct __user_cap_data_struct (effective, permitted, inheritable): bits 0-31, then 32-63.
  const data = Buffer.alloc(24);
  for (const [half, bits] of [Number(keep & 0xffffffffn), Number(keep >> 32n)].entries()) {
    data.writeUInt32LE(bits, half * 12); // effective
    data.writeUInt32LE(bits, half * 12 + 4); // permitted
  }
  check('capset', c.capset(header, data));
}

/**
 * seccomp(2) with a BPF program (struct sock_filter, 8 bytes an instruction). With TSYNC,
 * a thread that cannot take the filter makes it fail with that thread's ID, not -1.
 */
export function seccomp(operation: number, flags: number, program: Buffer): void {
  const nr = SYS_SECCOMP[process.arch];
  if (nr === undefined) throw new SyscallError('seccomp', constants.errno.ENOSYS, `not on ${process.arch} here`);
  const fprog = { len: program.length / 8, filter: program };
  const result = check('seccomp', Number(c.syscall(nr, 'unsigned int', operation, 'unsigned int', flags, 'sock_fprog *', fprog)));
  if (result > 0) throw new SyscallError(`seccomp (thread ${result} could not take the filter)`, constants.errno.ESRCH, 'No such process');
}

/**
 * seccomp(2) with a listener: the filter installed on every thread, and the descriptor
 * returned on which the kernel asks, for each syscall the filter answers SCMP_ACT_NOTIFY,
 * what it should return. The syscall waits until a process holding it replies.
 */
export function seccompWithListener(program: Buffer): number {
  const nr = SYS_SECCOMP[process.arch];
  if (nr === undefined) throw new SyscallError('seccomp', constants.errno.ENOSYS, `not on ${process.arch} here`);
  const flags = SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH | SECCOMP_FILTER_FLAG_NEW_LISTENER;
  const fprog = { len: program.length / 8, filter: program };
  return check(
    'seccomp (new listener)',
    Number(c.syscall(nr, 'unsigned int', SECCOMP_SET_MODE_FILTER, 'unsigned int', flags, 'sock_fprog *', fprog)),
  );
}

/**
 * keyctl(KEYCTL_JOIN_SESSION_KEYRING, name): a new session keyring for this process and what
 * it starts, so that they do not share the keys of the session they came from.
 */
export function joinNewSessionKeyring(name: string): void {
  const nr = SYS_KEYCTL[process.arch];
  if (nr === undefined) throw new SyscallError('keyctl', constants.errno.ENOSYS, `not on ${process.arch} here`);
  check('keyctl JOIN_SESSION_KEYRING', Number(c.syscall(nr, 'int', KEYCTL_JOIN_SESSION_KEYRING, 'const char *', name)));
}

/** A file in memory, never on a disk: its descriptor (close-on-exec). */
export function memfdCreate(name: string): number {
  return check('memfd_create', c.memfd_create(name, MFD_CLOEXEC));
}

export function setpgid(pid: number, pgid: number): void {
  check('setpgid', c.setpgid(pid, pgid));
}

/** Make process group `pgrp` the foreground group of the terminal open on `fd`. */
export function tcsetpgrp(fd: number, pgrp: number): void {
  check('tcsetpgrp', c.tcsetpgrp(fd, pgrp));
}

/** Run `action` with `signal` blocked on this thread (pthread_sigmask). */
export function withSignalBlocked<T>(signal: number, action: () => T): T {
  const set = Buffer.alloc(128); // sigset_t: one bit per signal, signal N at bit N-1
  set[(signal - 1) >> 3]! |= 1 << ((signal - 1) & 7);
  const old = Buffer.alloc(128);
  sigmask(SIG_BLOCK, set, old);
  try {
    return action();
  } finally {
    sigmask(SIG_SETMASK, old, null);
  }
}

// pthread_sigmask returns the error number itself, not -1.
function sigmask(how: number, set: Buffer, old: Buffer | null): void {
  const errno = c.pthread_sigmask(how, set, old);
  if (errno !== 0) throw new SyscallError('pthread_sigmask', errno, strerror(errno));
}

/** waitid(idtype, id, info, options): the pid of the child it found, 0 for none (WNOHANG). */
export function waitid(idtype: number, id: number, options: number): number {
  const info = Buffer.alloc(128); // siginfo_t; si_pid sits at offset 16 on 64-bit Linux
  check('waitid', c.waitid(idtype, id, info, options));
  return info.readInt32LE(16);
}

/** waitpid(pid, NULL, options): the pid it reaped, 0 for none (WNOHANG). */
export function waitpid(pid: number, options: number): number {
  return check('waitpid', c.waitpid(pid, null, options));
}

export function socket(domain: number, type: number, protocol = 0): number {
  return check('socket', c.socket(domain, type, protocol));
}

/** bind(2) an AF_INET socket to `address` ("0.0.0.0": every address of the host) and `port`. */
export function bindInet(fd: number, address: string, port: number): void {
  const sockaddr = Buffer.alloc(16); // struct sockaddr_in: family, port, address (network order), padding
  sockaddr.writeUInt16LE(AF_INET, 0);
  sockaddr.writeUInt16BE(port, 2);
  sockaddr.set(address.split('.').map(Number), 4);
  check(`bind ${address}:${port}`, c.bind(fd, sockaddr, sockaddr.length));
}

/** ioctl(fd, request, buffer): the kernel reads and may write `buffer` in place. */
export function ioctl(fd: number, request: number, buffer: Buffer): void {
  check(`ioctl ${IOCTL_NAMES[request] ?? request}`, c.ioctl(fd, request, 'uint8_t *', buffer));
}

/** ioctl(fd, request, value): the ioctl(2)s that take a number, not a buffer. */
export function ioctlValue(fd: number, request: number, value: number): void {
  check(`ioctl ${IOCTL_NAMES[request] ?? request}`, c.ioctl(fd, request, 'int', value));
}

/** TIOCSWINSZ: the terminal open on `fd` is `rows` by `columns` (struct winsize; its two pixel sizes unused). */
export function setWindowSize(fd: number, rows: number, columns: number): void {
  const winsize = Buffer.alloc(8);
  winsize.writeUInt16LE(rows, 0);
  winsize.writeUInt16LE(columns, 2);
  ioctl(fd, TIOCSWINSZ, winsize);
}

/** A new session, with this process its leader and no controlling terminal. */
export function setsid(): void {
  check('setsid', c.setsid());
}

/**
 * A new pseudo-terminal: its master end (a descriptor, close-on-exec) and the path of
 * its other end, /dev/pts/N, for the container (posix_openpt, grantpt, unlockpt).
 */
export function openPseudoTerminal(): { master: number; slavePath: string } {
  const O_RDWR = 0o2;
  const O_NOCTTY = 0o400;
  const O_CLOEXEC = 0o2000000;
  const master = check('posix_openpt', c.posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  check('grantpt', c.grantpt(master));
  check('unlockpt', c.unlockpt(master));
  const name = Buffer.alloc(64);
  const errno = c.ptsname_r(master, name, name.length); // returns the error number itself
  if (errno !== 0) throw new SyscallError('ptsname_r', errno, strerror(errno));
  return { master, slavePath: name.toString('utf8', 0, name.indexOf(0)) };
}

export function close(fd: number): void {
  check('close', c.close(fd));
}

/**
 * flock(fd, LOCK_EX | LOCK_NB): take the advisory lock of the open file, released when
 * it closes (or the process dies); false when another holds it (EWOULDBLOCK).
 */
export function tryLock(fd: number): boolean {
  if (c.flock(fd, LOCK_EX | LOCK_NB) === 0) return true;
  if (koffi.errno() === EWOULDBLOCK) return false;
  return check('flock', -1) === 0;
}

/** flock(fd, LOCK_EX): wait until the advisory lock of the open file is ours. */
export function lock(fd: number): void {
  check('flock', c.flock(fd, LOCK_EX));
}

/**
 * capset(2) with each set of its own: effective, permitted, inheritable (masks, bit n
 * for capability n), as an OCI config gives them.
 */
export function capsetAll(effective: bigint, permitted: bigint, inheritable: bigint): void {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(0x20080522, 0);
  const data = Buffer.alloc(24);
  for (const [set, mask] of [effective, permitted, inheritable].entries()) {
    data.writeUInt32LE(Number(mask & 0xffffffffn), set * 4);
    data.writeUInt32LE(Number(mask >> 32n), 12 + set * 4);
  }
  check('capset', c.capset(header, data));
}

export const O_WRONLY = 1;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000; // a handle on the file itself, not opened for reading or writing

/** open(2), for what Node's fs cannot say (O_PATH). */
export function open(path: string, flags: number, mode = 0): number {
  return check(`open ${path}`, c.open(path, flags, mode));
}

/** Let descriptor `fd` pass through execve (clear FD_CLOEXEC, which Node sets even on 0, 1 and 2). */
export function inheritable(fd: number): void {
  const F_SETFD = 2;
  check(`fcntl ${fd} F_SETFD`, c.fcntl(fd, F_SETFD, 'int', 0));
}

/** dup2(2): `newFd` becomes a copy of `oldFd` (and is inherited across execve). */
export function dup2(oldFd: number, newFd: number): void {
  check(`dup2 ${oldFd} ${newFd}`, c.dup2(oldFd, newFd));
}

/** Become user `uid` and group `gid` (real, effective, saved), with these supplementary groups. */
export function setIdentity(uid: number, gid: number, groups: number[]): void {
  check('setgroups', c.setgroups(groups.length, groups.length > 0 ? groups : null));
  check('setresgid', c.setresgid(gid, gid, gid));
  check('setresuid', c.setresuid(uid, uid, uid));
}

/** setrlimit(2) through prlimit(2): the soft and hard limits of `resource` (RLIMIT_*), for this process. */
export function setrlimit(resource: number, soft: bigint, hard: bigint): void {
  check(`prlimit ${resource}`, c.prlimit(0, resource, [soft, hard], null));
}

export function setdomainname(name: string): void {
  check('setdomainname', c.setdomainname(name, Buffer.byteLength(name)));
}

const AF_UNIX = 1;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;

/** struct sockaddr_un: the family, then the path (108 bytes, NUL-ended). */
function unixAddress(path: string, call: string): Buffer {
  const address = Buffer.alloc(110);
  address.writeUInt16LE(AF_UNIX, 0);
  if (address.write(path, 2) >= 107) throw new SyscallError(`${call} ${path}`, constants.errno.ENAMETOOLONG, 'File name too long');
  return address;
}

/** A socket connected to the AF_UNIX socket at `path` (an engine's console socket). */
export function connectUnix(path: string): number {
  const fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC);
  const address = unixAddress(path, 'connect');
  check(`connect ${path}`, c.connect(fd, address, address.length));
  return fd;
}

/** A console socket of our own, at `path`: what an engine listens on (step 15's `run`). */
export function listenUnix(path: string): number {
  const fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC);
  const address = unixAddress(path, 'bind');
  check(`bind ${path}`, c.bind(fd, address, address.length));
  check(`listen ${path}`, c.listen(fd, 1));
  return fd;
}

/** Accept one connection on `listening`, and the descriptor its peer sent (SCM_RIGHTS): the pty's master. */
export function receiveFd(listening: number): number {
  const peer = check('accept', c.accept4(listening, null, null, SOCK_CLOEXEC));
  try {
    const data = Buffer.alloc(4096);
    const control = Buffer.alloc(24);
    const message = { name: null, namelen: 0, iov: [{ base: data, len: data.length }], iovlen: 1, control, controllen: 24, flags: 0 };
    check('recvmsg (SCM_RIGHTS)', Number(c.recvmsg(peer, message, 0x40000000))); // MSG_CMSG_CLOEXEC
    if (control.readInt32LE(8) !== SOL_SOCKET || control.readInt32LE(12) !== SCM_RIGHTS) {
      throw new SyscallError('recvmsg', constants.errno.EBADMSG, 'no descriptor in the message');
    }
    return control.readInt32LE(16);
  } finally {
    close(peer);
  }
}

/**
 * sendmsg(2) with SCM_RIGHTS: pass descriptor `fd` to the process at the other end of
 * socket `socketFd`, with `name` as the message (runc sends the pty's path). The kernel
 * installs a copy of the descriptor in the receiver: it then holds our pty's master.
 */
export function sendFd(socketFd: number, fd: number, name: string): void {
  const data = Buffer.from(name);
  const control = Buffer.alloc(24); // struct cmsghdr (length, level, type) and one int, aligned to 8
  control.writeBigUInt64LE(20n, 0); // CMSG_LEN(sizeof(int))
  control.writeInt32LE(SOL_SOCKET, 8);
  control.writeInt32LE(SCM_RIGHTS, 12);
  control.writeInt32LE(fd, 16);
  const message = { name: null, namelen: 0, iov: [{ base: data, len: data.length }], iovlen: 1, control, controllen: 24, flags: 0 };
  check('sendmsg (SCM_RIGHTS)', Number(c.sendmsg(socketFd, message, 0)));
}

/**
 * execve(2): this process becomes `path`, with `argv` and `env`: the same PID, none of
 * Node left (every thread goes, the memory is replaced). Returns only on failure.
 */
export function execve(path: string, argv: string[], env: string[]): never {
  c.execve(path, [...argv, null], [...env, null]);
  throw new SyscallError(`exec ${path}`, koffi.errno(), strerror(koffi.errno()));
}

/** Mark every descriptor from `first` on close-on-exec: no program we start inherits them. */
export function closeOnExecFrom(first: number): void {
  check('close_range', c.close_range(first, 0xffffffff, CLOSE_RANGE_CLOEXEC));
}
