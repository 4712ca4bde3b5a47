// Step 14's seccomp filter (shared/security/seccomp.ts): the distribution's profile made
// a BPF program by libseccomp, then run here, in a small BPF interpreter, as the kernel
// would run it at a syscall. Never installed in this process: a filter stays for good
// (the one load here is of a filter the kernel refuses). One test installs it in a child
// process of its own: no root needed, no_new_privs is enough.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as libseccomp from '../../shared/kernel/libseccomp.ts';
import {
  bpfProgram,
  buildFilter,
  type Filter,
  filterSize,
  installFilter,
  loadProfile,
  NO_IO_URING,
  releaseFilter,
  summarize,
} from '../../shared/security/seccomp.ts';

const ALLOW = 'ALLOW';
const KILL_PROCESS = 'KILL_PROCESS';
const ERRNO = (name: string) => `ERRNO(${name})`;
const AUDIT_ARCH_I386 = 0x40000003;
const X32_SYSCALL_BIT = 0x40000000;

/**
 * What the kernel would do with a syscall: the BPF program run on its struct seccomp_data
 * (nr, arch, instruction pointer, six 64-bit arguments). cBPF as libseccomp writes it:
 * loads of 32-bit words, jumps, AND, returns; anything else fails the test.
 */
function run(program: Buffer, { nr, arch, args = [] }: { nr: number; arch: number; args?: bigint[] }): number {
  const data = Buffer.alloc(64);
  data.writeInt32LE(nr, 0);
  data.writeUInt32LE(arch, 4);
  for (const [i, arg] of args.entries()) data.writeBigUInt64LE(arg, 16 + 8 * i);
  let a = 0;
  for (let pc = 0; pc < program.length / 8; ) {
    const [code, jt, jf, k] = [program.readUInt16LE(pc * 8), program[pc * 8 + 2]!, program[pc * 8 + 3]!, program.readUInt32LE(pc * 8 + 4)];
    pc++;
    switch (code) {
      case 0x20: // ld [k]: a word of seccomp_data
        a = data.readUInt32LE(k);
        break;
      case 0x00: // ld #k
        a = k;
        break;
      case 0x54: // and #k
        a = (a & k) >>> 0;
        break;
      case 0x05: // ja k
        pc += k;
        break;
      case 0x15: // jeq #k, jt, jf
        pc += a === k ? jt : jf;
        break;
      case 0x25: // jgt
        pc += a > k ? jt : jf;
        break;
      case 0x35: // jge
        pc += a >= k ? jt : jf;
        break;
      case 0x45: // jset
        pc += (a & k) !== 0 ? jt : jf;
        break;
      case 0x06: // ret #k: the answer
        return k;
      default:
        throw new Error(`BPF instruction 0x${code.toString(16)} at ${pc - 1}: not in the interpreter`);
    }
  }
  throw new Error('the BPF program ran off its end');
}

/** A BPF program's answer, as a word: "ALLOW", "ERRNO(EPERM)", "KILL_PROCESS". */
function answer(result: number): string {
  const data = result & 0xffff;
  switch (result >>> 16) {
    case libseccomp.ACT_ALLOW >>> 16:
      return ALLOW;
    case libseccomp.ACT_ERRNO(0) >>> 16:
      return ERRNO(errnoNames.get(data) ?? `${data}`);
    case libseccomp.ACT_KILL_PROCESS >>> 16:
      return KILL_PROCESS;
    case libseccomp.ACT_LOG >>> 16:
      return 'LOG';
    case libseccomp.ACT_TRACE(0) >>> 16:
      return `TRACE(${data})`;
    default:
      return `0x${result.toString(16)}`;
  }
}
const errnoNames = new Map([
  [1, 'EPERM'],
  [13, 'EACCES'],
  [22, 'EINVAL'],
  [38, 'ENOSYS'],
]);

/** What `filter` answers to syscall `name` of this machine's ABI, with these arguments. */
function verdict(filter: Filter, name: string, ...args: bigint[]): string {
  const nr = libseccomp.syscallNumber(name);
  expect(nr, `${name}: a syscall of this architecture`).toBeGreaterThanOrEqual(0);
  return answer(
    run(programs.get(filter) ?? programs.set(filter, bpfProgram(filter)).get(filter)!, { nr, arch: libseccomp.nativeArch(), args }),
  );
}
const programs = new Map<Filter, Buffer>();

const built: Filter[] = [];
function build(...args: Parameters<typeof buildFilter>): Filter {
  const filter = buildFilter(...args);
  built.push(filter);
  return filter;
}
afterAll(() => built.forEach(releaseFilter));

const AF_NETLINK = 16n;
const NETLINK_AUDIT = 9n;
const ADDR_NO_RANDOMIZE = 0x0040000n;

describe("the distribution's profile (/usr/share/containers/seccomp.json)", () => {
  const profile = loadProfile();
  const none = build(profile, { keep: new Set() });
  const named = (name: string) => profile.syscalls.filter((rule) => rule.names.includes(name));

  it('loads: a default action, rules, an architecture map', () => {
    expect(profile.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(profile.syscalls.length).toBeGreaterThan(20);
    expect(profile.archMap?.length).toBeGreaterThan(0);
  });

  it('has rules for clone, clone3, socket and personality; socket and personality on their arguments', () => {
    for (const name of ['clone', 'clone3', 'socket', 'personality']) expect(named(name), name).not.toEqual([]);
    expect(named('personality').every((rule) => rule.args?.length)).toBe(true);
    expect(named('socket').some((rule) => rule.args?.length)).toBe(true);
  });

  it('allows what every program needs', () => {
    for (const name of ['read', 'write', 'execve', 'exit_group', 'clone', 'clone3', 'mmap', 'futex'])
      expect(verdict(none, name), name).toBe(ALLOW);
  });

  // keyctl is not here: Debian's profile (podman's) allows it, docker's own does not.
  it('refuses the kernel keyring, userfaultfd and io_uring', () => {
    expect(verdict(none, 'add_key')).toBe(ERRNO('ENOSYS')); // no rule names it: the default
    expect(verdict(none, 'request_key')).toBe(ERRNO('ENOSYS'));
    expect(verdict(none, 'userfaultfd')).toBe(ERRNO('EPERM'));
    expect(verdict(none, 'io_uring_setup')).toBe(ERRNO('ENOSYS'));
    expect(verdict(none, 'io_uring_enter')).toBe(ERRNO('ENOSYS'));
  });

  it('bpf and perf_event_open: refused without CAP_SYS_ADMIN, allowed with it', () => {
    expect(verdict(none, 'bpf')).toBe(ERRNO('EPERM'));
    expect(verdict(none, 'perf_event_open')).toBe(ERRNO('EPERM'));
    const admin = build(profile, { keep: new Set(['CAP_SYS_ADMIN']) });
    expect(verdict(admin, 'bpf')).toBe(ALLOW);
    expect(verdict(admin, 'perf_event_open')).toBe(ALLOW);
  });

  it('setns: allowed outright by an earlier rule, whatever a later one says', () => {
    expect(verdict(none, 'setns')).toBe(ALLOW);
    const late = none.applied.find(({ rule }) => rule.names.includes('setns') && rule.action === 'SCMP_ACT_ERRNO')!;
    expect(summarize(none).shadowed.get(late.rule)).toEqual(['setns']);
  });

  it('personality: only the values of the profile', () => {
    expect(verdict(none, 'personality', 0n)).toBe(ALLOW);
    expect(verdict(none, 'personality', 0xffffffffn)).toBe(ALLOW); // a query
    expect(verdict(none, 'personality', ADDR_NO_RANDOMIZE)).toBe(ERRNO('ENOSYS'));
    expect(verdict(none, 'personality', 1n << 32n)).toBe(ERRNO('ENOSYS')); // all 64 bits compared
  });

  it('socket: the audit netlink only with CAP_AUDIT_WRITE', () => {
    expect(verdict(none, 'socket', 2n, 1n, 0n)).toBe(ALLOW); // AF_INET, SOCK_STREAM
    expect(verdict(none, 'socket', AF_NETLINK, 3n, NETLINK_AUDIT)).toBe(ERRNO('EINVAL'));
    const audit = build(profile, { keep: new Set(['CAP_AUDIT_WRITE']) });
    expect(verdict(audit, 'socket', AF_NETLINK, 3n, NETLINK_AUDIT)).toBe(ALLOW);
  });

  it("its counts are the program's: syscalls allowed outright, under a condition", () => {
    const names = [...new Set(profile.syscalls.flatMap((rule) => rule.names))].filter((name) => libseccomp.syscallNumber(name) >= 0);
    const tries = [[], [AF_NETLINK, 3n, NETLINK_AUDIT], [ADDR_NO_RANDOMIZE], Array(6).fill(0xffffffffffffffffn)];
    const answers = names.map((name) => tries.map((args) => verdict(none, name, ...args)));
    const { allowed, conditional, skipped } = summarize(none);
    expect(allowed).toBe(answers.filter((each) => each.every((one) => one === ALLOW)).length);
    expect(conditional).toBe(answers.filter((each) => each.includes(ALLOW) && !each.every((one) => one === ALLOW)).length);
    expect(conditional).toBe(2); // personality, socket
    expect(skipped).toEqual([]);
    expect(none.rules).toBeGreaterThan(allowed);
  });

  it('has a size: BPF instructions, 8 bytes each', () => {
    expect(filterSize(none)).toBeGreaterThan(0);
    expect(filterSize(none)).toBe(bpfProgram(none).length / 8);
  });

  describe.runIf(process.arch === 'x64')('other ABIs of an x86_64 kernel', () => {
    const x86_64 = libseccomp.nativeArch();
    const program = () => bpfProgram(none);

    it('32-bit x86 and x32: killed at their first syscall', () => {
      expect(answer(run(program(), { nr: 3, arch: AUDIT_ARCH_I386 }))).toBe(KILL_PROCESS); // i386's read
      expect(answer(run(program(), { nr: X32_SYSCALL_BIT | 0, arch: x86_64 }))).toBe(KILL_PROCESS); // x32's read
    });

    it('compat: 32-bit x86 under the same rules; x32 still killed', () => {
      const compat = build(profile, { keep: new Set(), compat: true });
      expect(compat.arches).toEqual(['x86_64', 'x86']);
      const compatProgram = bpfProgram(compat);
      expect(answer(run(compatProgram, { nr: 3, arch: AUDIT_ARCH_I386 }))).toBe(ALLOW); // i386's read
      expect(answer(run(compatProgram, { nr: 140, arch: AUDIT_ARCH_I386 }))).toBe(ALLOW); // _llseek, i386's only
      expect(answer(run(compatProgram, { nr: 357, arch: AUDIT_ARCH_I386 }))).toBe(ERRNO('EPERM')); // bpf
      expect(answer(run(compatProgram, { nr: X32_SYSCALL_BIT | 0, arch: x86_64 }))).toBe(KILL_PROCESS);
    });
  });
});

describe('a profile of our own, in docker’s format', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfs-seccomp-test-'));
  afterAll(() => rmSync(dir, { recursive: true }));
  const write = (profile: object | string) => {
    const path = join(dir, `${Math.random()}.json`);
    writeFileSync(path, typeof profile === 'string' ? profile : JSON.stringify(profile));
    return path;
  };
  const CLONE_NEW = 0x7e020000; // the CLONE_NEW* flags: docker allows clone without them
  const own = `{
    "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
    "syscalls": [
      { "names": ["getpid", "gettid", "no_such_syscall"], "action": "SCMP_ACT_ALLOW" },
      { "names": ["clone"], "action": "SCMP_ACT_ALLOW",
        "args": [{ "index": 0, "value": ${CLONE_NEW}, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ" }],
        "excludes": { "caps": ["CAP_SYS_ADMIN"] } },
      { "names": ["clone"], "action": "SCMP_ACT_ALLOW", "includes": { "caps": ["CAP_SYS_ADMIN"] } },
      { "names": ["lseek"], "action": "SCMP_ACT_ALLOW",
        "args": [{ "index": 1, "value": 18446744073709551615, "op": "SCMP_CMP_EQ" }] },
      { "names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "args": [{ "index": 1, "value": 9, "op": "SCMP_CMP_EQ" }] },
      { "names": ["tgkill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "args": [{ "index": 2, "value": 9, "op": "SCMP_CMP_EQ" }] },
      { "names": ["tgkill"], "action": "SCMP_ACT_ALLOW" },
      { "names": ["uname"], "action": "SCMP_ACT_LOG" },
      { "names": ["ptrace"], "action": "SCMP_ACT_KILL_PROCESS" },
      { "names": ["getuid"], "action": "SCMP_ACT_ALLOW", "includes": { "minKernel": "3.0" } },
      { "names": ["getgid"], "action": "SCMP_ACT_ALLOW", "includes": { "minKernel": "99.0" } },
      { "names": ["getppid"], "action": "SCMP_ACT_ALLOW", "includes": { "arches": ["s390x"] } },
      { "names": ["getpgrp"], "action": "SCMP_ACT_ALLOW", "excludes": { "minKernel": "3.0" } }
    ]
  }`;
  const profile = loadProfile(write(own));

  it('builds, and says what went in', () => {
    const filter = build(profile, { keep: new Set() });
    const { skipped, allowed, conditional } = summarize(filter);
    expect(skipped).toEqual(['no_such_syscall']);
    expect(filter.notApplied.map(({ rule, why }) => `${rule.names}: ${why}`)).toEqual([
      'clone: only with CAP_SYS_ADMIN',
      'getgid: only from Linux 99.0',
      'getppid: only on s390x',
      'getpgrp: not from Linux 3.0',
    ]);
    expect(allowed).toBe(4); // getpid gettid tgkill getuid
    expect(conditional).toBe(2); // clone lseek
  });

  it('answers as the profile says', () => {
    const filter = build(profile, { keep: new Set() });
    expect(verdict(filter, 'getpid')).toBe(ALLOW);
    expect(verdict(filter, 'getgid')).toBe(ERRNO('EPERM')); // the default
    expect(verdict(filter, 'clone', 0x11n)).toBe(ALLOW); // SIGCHLD | a thread's flags, no namespace
    expect(verdict(filter, 'clone', 0x10000000n)).toBe(ERRNO('EPERM')); // CLONE_NEWUSER
    expect(verdict(filter, 'lseek', 0n, 0xffffffffffffffffn)).toBe(ALLOW); // 64 bits, read exactly
    expect(verdict(filter, 'lseek', 0n, 0xfffffffffffffffen)).toBe(ERRNO('EPERM'));
    expect(verdict(filter, 'kill', 1n, 9n)).toBe(ERRNO('EACCES'));
    expect(verdict(filter, 'kill', 1n, 15n)).toBe(ERRNO('EPERM')); // no rule for it: the default
    // A rule without conditions beats those with, even earlier ones (libseccomp's way).
    expect(verdict(filter, 'tgkill', 1n, 1n, 9n)).toBe(ALLOW);
    const tgkill = filter.applied.find(({ rule }) => rule.names[0] === 'tgkill')!;
    expect(summarize(filter).shadowed.get(tgkill.rule)).toEqual(['tgkill']);
    expect(verdict(filter, 'uname')).toBe('LOG');
    expect(verdict(filter, 'ptrace')).toBe(KILL_PROCESS);
  });

  it('a rule depends on the capabilities kept', () => {
    const admin = build(profile, { keep: new Set(['CAP_SYS_ADMIN']) });
    expect(verdict(admin, 'clone', 0x10000000n)).toBe(ALLOW);
  });

  it.each([
    ['{', /not JSON/],
    ['[]', /not a JSON object/],
    ['{"syscalls": []}', /no "defaultAction"/],
    ['{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"]}]}', /syscalls\[0\]: no "action"/],
    [
      '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}',
      /"index" is not 0 to 5/,
    ],
    [
      '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}]}]}',
      /not a whole number/,
    ],
    [
      '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "EQ"}]}]}',
      /"EQ" is no comparison/,
    ],
  ])('a profile that is not one: %s', (text, message) => {
    expect(() => loadProfile(write(text))).toThrow(message);
  });

  it.each([
    ['{"defaultAction": "SCMP_ACT_NOTIFY"}', /needs a process that answers/],
    ['{"defaultAction": "SCMP_ACT_MAYBE"}', /"SCMP_ACT_MAYBE" is no action/],
  ])('an action this runtime cannot take: %s', (text, message) => {
    expect(() => buildFilter(loadProfile(write(text)), { keep: new Set() })).toThrow(message);
  });

  it('a file that is not there: one line', () => {
    expect(() => loadProfile(join(dir, 'missing.json'))).toThrow(/^cannot read the seccomp profile .*missing\.json: ENOENT$/);
  });
});

// Installed for real, in a Node process of its own (the test's stays as it is): every
// thread under the filter (TSYNC), the event loop still turning, a command refused.
// libuv keeps an io_uring for its epoll calls, made as Node starts: a Node that installs
// the profile (io_uring_enter refused) must be started without one. Its parent denies
// io_uring_setup to what it starts, as step 14's runtime does: libuv then does without.
// The one load in this process: of a filter the kernel refuses before anything else (more
// than 4096 instructions, BPF_MAXINSNS), checked first. Nothing changes here, not even
// no_new_privs: libseccomp would set it on its own, we tell it not to.
it('a filter the kernel refuses: one line, and this process as it was', () => {
  const status = () => readFileSync('/proc/self/status', 'utf8').match(/^(Seccomp|NoNewPrivs):.*$/gm);
  const before = status();
  const values = Array.from({ length: 1400 }, (_, i) => (BigInt(i) << 32n) | BigInt(i)); // 4 instructions each
  const ioctls = values.map((value) => ({ names: ['ioctl'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value, op: 'SCMP_CMP_EQ' }] }));
  const filter = buildFilter({ path: '(too big)', defaultAction: 'SCMP_ACT_ERRNO', syscalls: ioctls }, { keep: new Set() });
  expect(filterSize(filter)).toBeGreaterThan(4096);
  expect(() => installFilter(filter)).toThrow(/^seccomp_load: EINVAL \(Invalid argument\)$/);
  expect(status()).toEqual(before);
});

it("NO_IO_URING: no new io_uring, and nothing else refused, on any ABI (the container's filter decides)", () => {
  const filter = build(NO_IO_URING, { keep: new Set() });
  expect(verdict(filter, 'io_uring_setup')).toBe(ERRNO('ENOSYS'));
  for (const name of ['io_uring_enter', 'read', 'clone3', 'keyctl']) expect(verdict(filter, name), name).toBe(ALLOW);
  expect(answer(run(bpfProgram(filter), { nr: 3, arch: AUDIT_ARCH_I386 }))).toBe(ALLOW);
});

describe('installed in a Node process', () => {
  const modules = (names: string[]) => names.map((name) => JSON.stringify(new URL(`../../shared/${name}`, import.meta.url).pathname));
  const [LIBC, SECCOMP] = modules(['kernel/libc.ts', 'security/seccomp.ts']);
  const container = `
    import { spawnSync } from 'node:child_process';
    import { readdirSync, readFileSync } from 'node:fs';
    import { readFile } from 'node:fs/promises';
    const libc = await import(${LIBC});
    libc.prctl(libc.PR_SET_NO_NEW_PRIVS, 1);
    // As step 14's child: the programs its runtime built, one seccomp(2) each, every thread
    for (const program of JSON.parse(process.env.PROGRAMS)) {
      libc.seccomp(libc.SECCOMP_SET_MODE_FILTER, libc.SECCOMP_FILTER_FLAG_TSYNC, Buffer.from(program, 'base64'));
    }
    const threads = readdirSync('/proc/self/task').map((task) => readFileSync('/proc/self/task/' + task + '/status', 'utf8').match(/^Seccomp:\\s+(\\d)/m)[1]);
    const setarch = spawnSync('setarch', ['-R', 'true'], { encoding: 'utf8' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    await readFile('/proc/self/status', 'utf8'); // on libuv's thread pool
    console.log(JSON.stringify({ threads, setarch: setarch.stderr.trim(), status: setarch.status }));`;
  const runtime = `
    import { spawnSync } from 'node:child_process';
    const { prctl } = await import(${LIBC});
    const { buildFilter, DEFAULT_PROFILE, installFilter, NO_IO_URING, seccompPrograms } = await import(${SECCOMP});
    const programs = seccompPrograms({ seccomp: DEFAULT_PROFILE, capabilities: [] });
    prctl(38, 1); // PR_SET_NO_NEW_PRIVS
    installFilter(buildFilter(NO_IO_URING), { allThreads: false }); // this thread, which spawns
    const env = { ...process.env, PROGRAMS: JSON.stringify(programs) };
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', ${JSON.stringify(container)}], { encoding: 'utf8', env });
    process.stdout.write(child.stdout);
    process.stderr.write(child.stderr);
    process.exitCode = child.status ?? 1;`;

  it('every thread filtered; a refused personality; Node lives on', { timeout: 20_000 }, () => {
    const outcome = spawnSync(process.execPath, ['--input-type=module', '-e', runtime], { encoding: 'utf8' });
    expect(outcome.stderr).toBe('');
    expect(outcome.status).toBe(0);
    const { threads, setarch, status } = JSON.parse(outcome.stdout);
    expect(threads.length).toBeGreaterThan(1);
    expect(threads.every((mode: string) => mode === '2')).toBe(true); // 2: SECCOMP_MODE_FILTER
    expect(status).not.toBe(0);
    expect(setarch).toMatch(/Function not implemented/); // personality(ADDR_NO_RANDOMIZE): ENOSYS
  });
});
