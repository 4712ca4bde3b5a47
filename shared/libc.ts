// The one FFI binding to the C library. Every syscall a step makes goes through here,
// and every failure becomes a SyscallError that names the call and the errno.
//
// All calls are synchronous on purpose: they run on Node's main thread, the thread
// that later forks the child. koffi's async calls run on worker threads, and
// namespaces (unshare, setns) and chroot belong to the *calling thread*.
import koffi from 'koffi';
import { SyscallError } from './errors.ts';

const lib = koffi.load('libc.so.6');

const c = {
  unshare: lib.func('int unshare(int flags)'),
  setns: lib.func('int setns(int fd, int nstype)'),
  sethostname: lib.func('int sethostname(const char *name, size_t len)'),
  chroot: lib.func('int chroot(const char *path)'),
  mount: lib.func(
    'int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)',
  ),
  umount2: lib.func('int umount2(const char *target, int flags)'),
  pivot_root: lib.func('int pivot_root(const char *new_root, const char *put_old)'),
  strerror: lib.func('const char *strerror(int errnum)'),
};

// clone(2) / unshare(2) flags: one per namespace.
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
export const MS_MOVE = 0x2000;
export const MS_REC = 0x4000;
export const MS_PRIVATE = 0x40000;
export const MS_SLAVE = 0x80000;
export const MS_SHARED = 0x100000;

// umount2(2) flags.
export const MNT_DETACH = 0x2;

/** The text of an errno, as the C library words it ("Operation not permitted"). */
export function strerror(errno: number): string {
  return c.strerror(errno) as string;
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

export function mount(
  source: string | null,
  target: string,
  fstype: string | null,
  flags: number,
  data: string | null = null,
): void {
  check(`mount ${target}`, c.mount(source, target, fstype, flags, data));
}

export function umount2(target: string, flags = 0): void {
  check(`umount2 ${target}`, c.umount2(target, flags));
}

export function pivotRoot(newRoot: string, putOld: string): void {
  check('pivot_root', c.pivot_root(newRoot, putOld));
}
