// A seccomp profile in docker's format (JSON), made a filter through libseccomp and
// installed in the calling process: from then on, the kernel answers every syscall of
// every thread as the profile says, and so does it for every program started after.
//
// The profile by default is the distribution's own, the one podman reads:
// /usr/share/containers/seccomp.json (Debian's golang-github-containers-common). It
// lists syscalls with an action (ALLOW, ERRNO...), maybe conditions on their arguments
// ("socket if arg0 != 16"), and when the rule applies: with which capabilities kept,
// on which architecture, from which kernel. Every other syscall gets the default action.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, readFileSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { constants, release as kernelRelease } from 'node:os';
import { dirname, join } from 'node:path';
import { memfdCreate } from '../kernel/libc.ts';
import * as libseccomp from '../kernel/libseccomp.ts';
import { stateDir } from '../runtime/config.ts';
import { RuntimeError } from '../runtime/errors.ts';

export const DEFAULT_PROFILE = '/usr/share/containers/seccomp.json';

/** A profile as docker and podman write it (the fields this runtime reads). */
export interface Profile {
  path: string; // where it was read
  defaultAction: string; // "SCMP_ACT_ERRNO"
  defaultErrnoRet?: number; // docker's: ERRNO's errno (EPERM when neither is said)
  defaultErrno?: string; // podman's: the same, by name ("ENOSYS")
  archMap?: { architecture: string; subArchitectures: string[] | null }[];
  syscalls: SyscallRule[];
  listener?: boolean; // OCI's listenerPath: an engine's agent answers SCMP_ACT_NOTIFY
}

/** One entry of `syscalls`: an action for these names, maybe on conditions. */
export interface SyscallRule {
  names: string[];
  action: string;
  errnoRet?: number;
  errno?: string;
  args?: { index: number; value: bigint; valueTwo?: bigint; op: string }[] | null;
  includes?: Applies; // applies only if all of these hold
  excludes?: Applies; // applies unless one of these holds
}

interface Applies {
  caps?: string[]; // includes: all kept; excludes: any kept
  arches?: string[]; // Go's names: amd64, arm64...
  minKernel?: string; // "4.8"
}

/** A filter built, not yet in the kernel; what went into it (summarize() counts it). */
export interface Filter {
  readonly context: libseccomp.FilterContext;
  readonly arches: string[]; // the ABIs it covers, as libseccomp names them: the native one first
  readonly rules: number; // rules given to libseccomp: one per name of an applied rule (on its ABIs)
  readonly applied: Applied[]; // the profile's rules that apply here, in order
  readonly notApplied: { rule: SyscallRule; why: string }[];
}

/** A rule that applies: its action as libseccomp's number (null: the default's, nothing to add), each name's number. */
interface Applied {
  rule: SyscallRule;
  action: number | null;
  numbers: number[]; // on the native ABI; -1: a name libseccomp does not know, below: not the native ABI's
}

/** What a filter does with the native ABI's syscalls, counted. */
export interface Summary {
  allowed: number; // syscalls allowed whatever their arguments
  conditional: number; // allowed for some arguments only
  elsewhere: number; // names of applied rules that are no syscall of the native ABI (_llseek)
  skipped: string[]; // names this libseccomp does not know
  // Per rule, the names another rule decides: one without conditions beats those with
  // some, and the first of those wins (libseccomp's way).
  shadowed: Map<SyscallRule, string[]>;
}

// x32 (an x86_64 kernel's third ABI: 64-bit registers, 32-bit pointers) stays out even
// with `compat`, though the profile lists it: next to no program uses it, many kernels
// are built without it (this machine's is), and in the filter it would be a third copy
// of every rule.
const LEFT_OUT = new Set(['x32']);

/**
 * A filter for the runtime's own thread, before it starts the container's Node: no new
 * io_uring (ENOSYS, as from a kernel without). libuv makes one as Node starts, for its
 * epoll calls, then needs io_uring_enter for good, and the profile refuses that: a Node
 * that installs the profile must have been started without a ring (libuv does without).
 * Installed with `allThreads: false`: the runtime's own ring, made already, still works.
 */
export const NO_IO_URING: Profile = {
  path: '(no io_uring)',
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [{ names: ['io_uring_setup'], action: 'SCMP_ACT_ERRNO', errnoRet: constants.errno.ENOSYS }],
};

/** The profile at `path`, read and checked; a problem with it is one line. */
export function loadProfile(path = DEFAULT_PROFILE): Profile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && path === DEFAULT_PROFILE) {
      throw new RuntimeError(
        `no seccomp profile at ${path}: sudo apt-get install golang-github-containers-common (skopeo and podman bring it too)`,
      );
    }
    throw new RuntimeError(`cannot read the seccomp profile ${path}: ${code ?? error}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
    // An argument's value is a 64-bit number: one past 2^53 is read again from its digits.
    if (/\d{16}/.test(text)) json = JSON.parse(text, exactValues);
  } catch (error) {
    throw new RuntimeError(`${path}: not JSON (${(error as Error).message})`);
  }
  return checkProfile(path, json);
}

function checkProfile(path: string, json: unknown): Profile {
  const bad = (what: string): never => {
    throw new RuntimeError(`${path}: not a seccomp profile in docker's format: ${what}`);
  };
  const profile = json as Profile;
  if (typeof profile !== 'object' || profile === null || Array.isArray(profile)) bad('not a JSON object');
  if (typeof profile.defaultAction !== 'string') bad('no "defaultAction"');
  if (!Array.isArray(profile.syscalls ?? [])) bad('"syscalls" is not a list');
  const rules = (profile.syscalls ?? []).map((rule, i) => {
    const old = rule as SyscallRule & { name?: string }; // docker's older format: one name
    const names = rule.names ?? (old.name ? [old.name] : []);
    if (!Array.isArray(names) || !names.every((name) => typeof name === 'string')) bad(`syscalls[${i}]: "names" is not a list of names`);
    if (typeof rule.action !== 'string') bad(`syscalls[${i}]: no "action"`);
    const args = (rule.args ?? []).map((arg) => {
      const [value, valueTwo] = [exact(arg.value), exact(arg.valueTwo ?? 0)];
      if (!(Number.isInteger(arg.index) && arg.index >= 0 && arg.index <= 5)) bad(`syscalls[${i}]: an argument's "index" is not 0 to 5`);
      if (value === undefined || valueTwo === undefined) bad(`syscalls[${i}]: an argument's "value" is not a whole number from 0`);
      if (!(arg.op in OPERATORS)) bad(`syscalls[${i}]: ${JSON.stringify(arg.op)} is no comparison (SCMP_CMP_EQ...)`);
      return { ...arg, value: value!, valueTwo: valueTwo! };
    });
    return { ...rule, names, args };
  });
  return { ...profile, path, syscalls: rules };
}

/** A whole number from 0, as a BigInt; undefined for anything else (1.5, -1, "1", 2^60 read as a double). */
function exact(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value >= 0n ? value : undefined;
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? BigInt(value) : undefined;
}

/** JSON.parse's reviver: "value" and "valueTwo" as BigInt, from the digits (Node 22+ gives them). */
function exactValues(key: string, value: unknown, context?: { source?: string }): unknown {
  const digits = context?.source ?? '';
  return (key === 'value' || key === 'valueTwo') && /^\d+$/.test(digits) ? BigInt(digits) : value;
}

const OPERATORS: Record<string, number> = {
  SCMP_CMP_NE: libseccomp.CMP.NE,
  SCMP_CMP_LT: libseccomp.CMP.LT,
  SCMP_CMP_LE: libseccomp.CMP.LE,
  SCMP_CMP_EQ: libseccomp.CMP.EQ,
  SCMP_CMP_GE: libseccomp.CMP.GE,
  SCMP_CMP_GT: libseccomp.CMP.GT,
  SCMP_CMP_MASKED_EQ: libseccomp.CMP.MASKED_EQ,
};

/**
 * The filter the profile makes for a container that keeps the capabilities `keep`
 * ("CAP_CHOWN"...), on this machine's architecture and kernel. Built, not installed:
 * installFilter() puts it in the kernel, releaseFilter() frees one that never will be.
 *
 * Only the machine's own ABI (as systemd's SystemCallArchitectures=native), unless
 * `compat`: then the others the profile's archMap gives it too (on x86_64: 32-bit x86;
 * x32 never, see LEFT_OUT). A syscall of an ABI not in the filter kills the process.
 */
export function buildFilter(
  profile: Profile,
  { keep = new Set<string>(), compat = false }: { keep?: ReadonlySet<string>; compat?: boolean } = {},
): Filter {
  const notify = profile.listener === true;
  const defaultAction = actionOf(profile.defaultAction, profile.defaultErrnoRet, profile.defaultErrno, profile.path, notify);
  const actions = profile.syscalls.map((rule, i) =>
    actionOf(rule.action, rule.errnoRet, rule.errno, `${profile.path}: syscalls[${i}]`, notify),
  );
  const context = libseccomp.init(defaultAction);
  try {
    const arches = addArchitectures(context, profile, compat);
    // Another ABI's syscall: killed; or allowed, by a filter that allows what it does not name.
    const badArch = defaultAction === libseccomp.ACT_ALLOW ? libseccomp.ACT_ALLOW : libseccomp.ACT_KILL_PROCESS;
    libseccomp.setAttribute(context, libseccomp.ATTR_ACT_BADARCH, badArch);
    // no_new_privs is for the caller to set (prctl), as the course shows it: not behind its back.
    libseccomp.setAttribute(context, libseccomp.ATTR_CTL_NNP, 0);

    const here = { keep: new Set([...keep].map(capability)), arch: goArch(), kernel: kernelVersion() };
    const applied: Applied[] = [];
    const notApplied: Filter['notApplied'] = [];
    let rules = 0;
    for (const [i, rule] of profile.syscalls.entries()) {
      const why = whyNot(rule, here);
      if (why) {
        notApplied.push({ rule, why });
        continue;
      }
      const action = actions[i] === defaultAction ? null : actions[i]!; // null: nothing to add (libseccomp refuses it)
      const numbers = rule.names.map((name) => libseccomp.syscallNumber(name));
      applied.push({ rule, action, numbers });
      if (action === null) continue;
      const conditions = (rule.args ?? []).map(({ index, value, valueTwo, op }) => ({
        arg: index,
        op: OPERATORS[op]!,
        a: value,
        b: valueTwo ?? 0n,
      }));
      // Two comparisons of one argument: alternatives, one rule each (as runc reads them).
      const once = new Set(conditions.map(({ arg }) => arg)).size === conditions.length;
      const alternatives = once ? [conditions] : conditions.map((condition) => [condition]);
      for (const [j, nr] of numbers.entries()) {
        if (nr === -1 || (nr < 0 && !compat)) continue;
        for (const these of alternatives) libseccomp.addRule(context, action, nr, rule.names[j]!, these);
        rules += alternatives.length;
      }
    }
    return { context, arches, rules, applied, notApplied };
  } catch (error) {
    libseccomp.release(context);
    throw error;
  }
}

/**
 * What the filter does with the native ABI's syscalls, as libseccomp decides it. Not
 * counted by buildFilter(): a container's start does not need it (the script does).
 */
export function summarize({ applied }: Filter): Summary {
  const skipped = new Set<string>();
  const elsewhere = new Set<string>();
  const outright = new Map<string, number>(); // the action of the first rule without conditions
  const withConditions = new Map<string, string[][]>(); // the shadowed lists of its rules with some
  const allowedIf = new Set<string>();
  const shadowed = new Map<SyscallRule, string[]>();
  for (const { rule, action, numbers } of applied) {
    const mine: string[] = [];
    shadowed.set(rule, mine);
    for (const [j, nr] of numbers.entries()) {
      const name = rule.names[j]!;
      if (nr === -1) skipped.add(name);
      else if (nr < 0) elsewhere.add(name);
      if (nr < 0 || action === null) continue;
      if (outright.has(name)) {
        mine.push(name);
      } else if (!rule.args?.length) {
        outright.set(name, action);
        for (const earlier of withConditions.get(name) ?? []) earlier.push(name);
      } else {
        withConditions.set(name, [...(withConditions.get(name) ?? []), mine]);
        if (action === libseccomp.ACT_ALLOW) allowedIf.add(name);
      }
    }
  }
  return {
    allowed: [...outright.values()].filter((action) => action === libseccomp.ACT_ALLOW).length,
    conditional: [...allowedIf].filter((name) => !outright.has(name)).length,
    elsewhere: elsewhere.size,
    skipped: [...skipped],
    shadowed,
  };
}

/** The native ABI (in the filter from seccomp_init), then, for `compat`, the profile's others for it. */
function addArchitectures(context: libseccomp.FilterContext, profile: Profile, compat: boolean): string[] {
  const native = libseccomp.nativeArch();
  const entry = (profile.archMap ?? []).find(({ architecture }) => libseccomp.archToken(archName(architecture)) === native);
  const arches = [archName(entry?.architecture ?? 'native')];
  for (const sub of compat ? (entry?.subArchitectures ?? []).map(archName) : []) {
    const token = libseccomp.archToken(sub);
    if (LEFT_OUT.has(sub) || token === 0 || token === native) continue; // 0: one this libseccomp does not know
    libseccomp.addArch(context, token, sub);
    arches.push(sub);
  }
  return arches;
}

/** "SCMP_ARCH_X86_64" as libseccomp names it: "x86_64". */
const archName = (scmp: string) => scmp.replace(/^SCMP_ARCH_/, '').toLowerCase();

/** The architecture as Go names it (includes/excludes say "amd64", as docker reads them). */
function goArch(): string {
  const names: Record<string, string> = { x64: 'amd64', ia32: '386', ppc64: 'ppc64le', mips64el: 'mips64le' };
  return names[process.arch] ?? process.arch;
}

/** "6.1.0-18-amd64": [6, 1]. */
function kernelVersion(): number[] {
  return versionOf(kernelRelease());
}

const versionOf = (text: string) => (text.match(/^(\d+)\.(\d+)/) ?? ['', '0', '0']).slice(1, 3).map(Number);
const atLeast = ([major, minor]: number[], [wantMajor, wantMinor]: number[]) =>
  major! > wantMajor! || (major === wantMajor && minor! >= wantMinor!);
const capability = (name: string) => (name.toUpperCase().startsWith('CAP_') ? name.toUpperCase() : `CAP_${name.toUpperCase()}`);

/** Why a rule does not apply here ("only with CAP_SYS_ADMIN"), or '' if it does: docker's reading. */
function whyNot({ includes: inc = {}, excludes: exc = {} }: SyscallRule, here: { keep: Set<string>; arch: string; kernel: number[] }) {
  if (exc.arches?.includes(here.arch)) return `not on ${here.arch}`;
  const kept = exc.caps?.map(capability).filter((cap) => here.keep.has(cap)) ?? [];
  if (kept.length > 0) return `not with ${kept.join(', ')}`;
  if (exc.minKernel && atLeast(here.kernel, versionOf(exc.minKernel))) return `not from Linux ${exc.minKernel}`;
  if (inc.arches?.length && !inc.arches.includes(here.arch)) return `only on ${inc.arches.join(', ')}`;
  const missing = inc.caps?.map(capability).filter((cap) => !here.keep.has(cap)) ?? [];
  if (missing.length > 0) return `only with ${missing.join(', ')}`;
  if (inc.minKernel && !atLeast(here.kernel, versionOf(inc.minKernel))) return `only from Linux ${inc.minKernel}`;
  return '';
}

/** A profile's action ("SCMP_ACT_ERRNO" and its errno) as libseccomp's number. */
function actionOf(action: string, errnoRet: number | undefined, errno: string | undefined, where: string, notify = false): number {
  const number = errnoRet ?? (errno ? constants.errno[errno as keyof typeof constants.errno] : undefined) ?? constants.errno.EPERM;
  switch (action) {
    case 'SCMP_ACT_ALLOW':
      return libseccomp.ACT_ALLOW;
    case 'SCMP_ACT_ERRNO':
      return libseccomp.ACT_ERRNO(number);
    case 'SCMP_ACT_TRACE':
      return libseccomp.ACT_TRACE(number);
    case 'SCMP_ACT_LOG':
      return libseccomp.ACT_LOG;
    case 'SCMP_ACT_TRAP':
      return libseccomp.ACT_TRAP;
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return libseccomp.ACT_KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return libseccomp.ACT_KILL_PROCESS;
    case 'SCMP_ACT_NOTIFY':
      if (notify) return libseccomp.ACT_NOTIFY;
      throw new RuntimeError(`${where}: SCMP_ACT_NOTIFY needs a process that answers for the kernel (OCI's listenerPath): none here`);
    default:
      throw new RuntimeError(`${where}: ${JSON.stringify(action)} is no action (SCMP_ACT_ALLOW, SCMP_ACT_ERRNO...)`);
  }
}

/** The BPF program the kernel would run at every syscall: 8 bytes an instruction. */
export function bpfProgram(filter: Filter): Buffer {
  const fd = memfdCreate('seccomp-bpf'); // libseccomp writes to a descriptor: one in memory
  try {
    libseccomp.exportBpf(filter.context, fd);
    const program = Buffer.alloc(fstatSync(fd).size);
    readSync(fd, program, 0, program.length, 0);
    return program;
  } finally {
    closeSync(fd);
  }
}

/** The filter's size: BPF instructions (the kernel takes at most 4096 in one filter). */
export function filterSize(filter: Filter): number {
  return bpfProgram(filter).length / 8;
}

/**
 * Put the filter in the kernel, for every thread of this process (TSYNC: Node has a
 * few), and for all they start from now on; then free libseccomp's copy. The caller
 * sets no_new_privs first (or still has CAP_SYS_ADMIN in its user namespace).
 * `allThreads: false`: for the calling thread only, and what it starts.
 */
export function installFilter(filter: Filter, { allThreads = true } = {}): void {
  if (allThreads) libseccomp.setAttribute(filter.context, libseccomp.ATTR_CTL_TSYNC, 1);
  try {
    libseccomp.load(filter.context);
  } finally {
    libseccomp.release(filter.context);
  }
}

/**
 * The profiles a container's filters are made of: the one given; for the default (the
 * distribution's, podman's), docker's stricter rules stacked on it too (DOCKER_RULES).
 */
export function containerProfiles(path: string): Profile[] {
  return path === DEFAULT_PROFILE ? [loadProfile(path), DOCKER_RULES] : [loadProfile(path)];
}

/**
 * Step 14: the BPF programs (base64) of the filters a container's settings ask for; none
 * when unconfined. The container loads each with one seccomp(2): no libseccomp, no
 * profile to read where it is, after pivot_root. Built once for a profile, a set of
 * capabilities, a kernel and a libseccomp, then kept in the state directory's seccomp/
 * (as crun keeps its own): building costs ~7 ms of every start, reading back ~0.1.
 */
export function seccompPrograms({ seccomp, capabilities }: { seccomp: string | undefined; capabilities: string[] }): string[] {
  if (!seccomp) return [];
  const cached = cacheFile(seccomp, capabilities);
  try {
    const kept: unknown = cached && JSON.parse(readFileSync(cached, 'utf8'));
    if (Array.isArray(kept) && kept.every((program) => typeof program === 'string')) return kept;
  } catch {} // not built yet (or not whole: built again)
  const keep = new Set(capabilities);
  const programs = containerProfiles(seccomp).map((profile) => {
    const filter = buildFilter(profile, { keep });
    try {
      return bpfProgram(filter).toString('base64');
    } finally {
      releaseFilter(filter);
    }
  });
  if (cached) saveWhole(cached, JSON.stringify(programs));
  return programs;
}

/** Where the programs for these inputs are kept; undefined when the profile cannot be read (loadProfile says why). */
function cacheFile(profile: string, capabilities: string[]): string | undefined {
  let text: Buffer;
  try {
    text = readFileSync(profile);
  } catch {
    return undefined;
  }
  const inputs = [[...capabilities].sort(), kernelRelease(), process.arch, libseccomp.version(), DOCKER_RULES.syscalls.length];
  const key = createHash('sha256')
    .update(text)
    .update(JSON.stringify(inputs, (_, v) => (typeof v === 'bigint' ? `${v}` : v)));
  return join(stateDir(), 'seccomp', `${key.digest('hex')}.json`);
}

/** Write `text` at `file` whole (a rename), or not at all: a cache only saves time. */
function saveWhole(file: string, text: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(`${file}.${process.pid}`, text);
    renameSync(`${file}.${process.pid}`, file);
  } catch {}
}

/** Free a filter that will not be installed. */
export function releaseFilter(filter: Filter): void {
  libseccomp.release(filter.context);
}

/** "2.5.4": which libseccomp builds the filters (which syscalls it knows). */
export const libseccompVersion = () => libseccomp.version();

// The namespace flags of clone(2), one bit each: a rule per bit, since a filter compares
// (argument & mask) == value, and "any of these bits" is seven such rules.
const NAMESPACE_FLAGS = [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000];
const refuse = (names: string[], extra: Partial<SyscallRule> = {}): SyscallRule => ({
  names,
  action: 'SCMP_ACT_ERRNO',
  errnoRet: constants.errno.EPERM,
  excludes: { caps: ['CAP_SYS_ADMIN'] },
  ...extra,
});

/**
 * What docker's default policy refuses and the distribution's (podman's) lets through:
 * new namespaces (podman allows nested containers) and the kernel's keyring, unless the
 * container keeps CAP_SYS_ADMIN. A second filter, its default ALLOW, stacked on the first:
 * the kernel runs both, and the stricter answer wins. clone3 answers ENOSYS, as docker's:
 * its flags are in memory, out of a filter's sight, and glibc then falls back to clone.
 */
const DOCKER_RULES: Profile = {
  path: "(docker's rules for namespaces and keys)",
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [
    refuse(['unshare', 'setns']),
    ...NAMESPACE_FLAGS.map((flag) =>
      refuse(['clone'], { args: [{ index: 0, value: BigInt(flag), valueTwo: BigInt(flag), op: 'SCMP_CMP_MASKED_EQ' }] }),
    ),
    refuse(['clone3'], { errnoRet: constants.errno.ENOSYS }),
    refuse(['keyctl', 'add_key', 'request_key'], { excludes: undefined }),
  ],
};
