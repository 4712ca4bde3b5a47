// The one FFI binding to libseccomp (Debian's libseccomp2, libseccomp.so.2): the library
// that turns a list of rules ("allow read", "EPERM for socket if arg0 == 16") into the
// BPF program the kernel runs at every syscall, then hands it to the kernel. What the
// rules say is shared/security/seccomp.ts's business; this file only makes the calls.
//
// Loaded on first use: only the step that installs a filter pays for it. Every call that
// fails throws a SyscallError that names it: libseccomp returns -errno, as Node does.
import { constants } from 'node:os';
import { RuntimeError } from '../runtime/errors.ts';
import { fsError, loadKoffi } from './libc.ts'; // koffi's native part, as libc.ts loads it (the same module)

// Actions, as seccomp.h packs them: what the kernel does with a syscall a rule matches.
export const ACT_KILL_PROCESS = 0x80000000;
export const ACT_KILL_THREAD = 0x00000000;
export const ACT_TRAP = 0x00030000;
export const ACT_LOG = 0x7ffc0000;
export const ACT_NOTIFY = 0x7fc00000; // the kernel asks a process (through a seccomp listener) what to return
export const ACT_ALLOW = 0x7fff0000;
export const ACT_ERRNO = (errno: number) => (0x00050000 | (errno & 0xffff)) >>> 0;
export const ACT_TRACE = (message: number) => (0x7ff00000 | (message & 0xffff)) >>> 0;

// The comparisons of an argument (enum scmp_compare).
export const CMP = { NE: 1, LT: 2, LE: 3, EQ: 4, GE: 5, GT: 6, MASKED_EQ: 7 } as const;

// Filter attributes (enum scmp_filter_attr).
export const ATTR_ACT_BADARCH = 2; // what a syscall of an architecture not in the filter gets
export const ATTR_CTL_NNP = 3; // 1: seccomp_load sets no_new_privs itself
export const ATTR_CTL_TSYNC = 4; // 1: the filter covers every thread of the process
const ATTR_API_SYSRAWRC = 9; // 1: a failed load returns the kernel's errno, not -ECANCELED

/** One condition on an argument: `args[arg] op a` (MASKED_EQ: `args[arg] & a == b`). */
export interface ArgCondition {
  arg: number;
  op: number;
  a: bigint;
  b: bigint;
}

/** A filter being built, libseccomp's scmp_filter_ctx: opaque to JavaScript. */
export type FilterContext = { readonly __brand: 'scmp_filter_ctx' };

let bound: ReturnType<typeof bind> | undefined;
const c = () => (bound ??= bind());

function bind() {
  const koffi = loadKoffi();
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load('libseccomp.so.2');
  } catch {
    throw new RuntimeError('libseccomp is missing: sudo apt-get install libseccomp2');
  }
  const version = koffi.struct('scmp_version', { major: 'uint', minor: 'uint', micro: 'uint' });
  return {
    koffi,
    version,
    seccomp_version: lib.func('const void *seccomp_version(void)'),
    seccomp_init: lib.func('void *seccomp_init(uint32_t def_action)'),
    seccomp_release: lib.func('void seccomp_release(void *ctx)'),
    seccomp_arch_native: lib.func('uint32_t seccomp_arch_native(void)'),
    seccomp_arch_resolve_name: lib.func('uint32_t seccomp_arch_resolve_name(const char *name)'),
    seccomp_arch_add: lib.func('int seccomp_arch_add(void *ctx, uint32_t arch_token)'),
    seccomp_attr_set: lib.func('int seccomp_attr_set(void *ctx, int attr, uint32_t value)'),
    seccomp_syscall_resolve_name: lib.func('int seccomp_syscall_resolve_name(const char *name)'),
    // The conditions: an array of struct scmp_arg_cmp, built by hand (addRule).
    seccomp_rule_add_array: lib.func(
      'int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int arg_cnt, const uint8_t *arg_array)',
    ),
    seccomp_export_bpf: lib.func('int seccomp_export_bpf(void *ctx, int fd)'),
    seccomp_load: lib.func('int seccomp_load(void *ctx)'),
  };
}

// libseccomp's failures are -errno, as Node reports a failed fs call's: worded by libc.ts
// as every other failure ("seccomp_load: EACCES (Permission denied)").
function check(call: string, result: number): number {
  if (result < 0) throw fsError(call, { errno: result });
  return result;
}

/** "2.5.4" */
export function version(): string {
  const { major, minor, micro } = c().koffi.decode(c().seccomp_version(), c().version);
  return `${major}.${minor}.${micro}`;
}

/** A new filter with the native architecture in it; `defaultAction` for every syscall no rule names. */
export function init(defaultAction: number): FilterContext {
  const ctx = c().seccomp_init(defaultAction);
  if (!ctx) throw new RuntimeError(`seccomp_init: libseccomp refuses the default action 0x${defaultAction.toString(16)}`);
  return ctx;
}

export function release(ctx: FilterContext): void {
  c().seccomp_release(ctx);
}

/** The architecture this process runs as: an AUDIT_ARCH_* token. */
export function nativeArch(): number {
  return c().seccomp_arch_native();
}

/** "x86_64", "x86", "aarch64"... as a token; 0 for a name libseccomp does not know. */
export function archToken(name: string): number {
  return c().seccomp_arch_resolve_name(name);
}

export function addArch(ctx: FilterContext, token: number, name: string): void {
  check(`seccomp_arch_add ${name}`, c().seccomp_arch_add(ctx, token));
}

export function setAttribute(ctx: FilterContext, attribute: number, value: number): void {
  check(`seccomp_attr_set ${attribute}=${value}`, c().seccomp_attr_set(ctx, attribute, value));
}

/**
 * A syscall's number on the native architecture; below -1 for one it does not have (a
 * "pseudo" number, which libseccomp maps to the other architectures); -1 for a name it
 * does not know at all.
 */
export function syscallNumber(name: string): number {
  return c().seccomp_syscall_resolve_name(name);
}

/** One rule: `action` for syscall `nr` when every condition holds (none: always). */
export function addRule(ctx: FilterContext, action: number, nr: number, name: string, conditions: ArgCondition[]): void {
  // An array of struct scmp_arg_cmp: unsigned int arg, enum op, uint64 datum_a, uint64 datum_b.
  let array: Buffer | null = null;
  if (conditions.length > 0) {
    array = Buffer.alloc(24 * conditions.length);
    for (const [i, { arg, op, a, b }] of conditions.entries()) {
      array.writeUInt32LE(arg, 24 * i);
      array.writeInt32LE(op, 24 * i + 4);
      array.writeBigUInt64LE(a, 24 * i + 8);
      array.writeBigUInt64LE(b, 24 * i + 16);
    }
  }
  const result = c().seccomp_rule_add_array(ctx, action, nr, conditions.length, array);
  if (result < 0) check(`seccomp_rule_add ${name}`, result);
}

/** Write the filter's BPF program to `fd`: 8 bytes an instruction (struct sock_filter). */
export function exportBpf(ctx: FilterContext, fd: number): void {
  check('seccomp_export_bpf', c().seccomp_export_bpf(ctx, fd));
}

/** Hand the filter to the kernel (seccomp(2)): from now on, every syscall goes through it. */
export function load(ctx: FilterContext): void {
  setAttribute(ctx, ATTR_API_SYSRAWRC, 1);
  const result = c().seccomp_load(ctx);
  // EACCES: the kernel takes a filter only from a process with no_new_privs set, or with
  // CAP_SYS_ADMIN in its user namespace (else a filter could trick a setuid program).
  if (result === -constants.errno.EACCES) check('seccomp_load (no_new_privs unset, no CAP_SYS_ADMIN)', result);
  // ESRCH: with TSYNC, a thread of ours has a filter the others do not (libseccomp's word for it).
  if (result === -constants.errno.ESRCH) check('seccomp_load (a thread could not take the filter)', result);
  check('seccomp_load', result);
}
