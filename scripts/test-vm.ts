// npm run test:vm: what a cgroup v2 kernel changes, tested on one, as on the course VM,
// whatever this machine has (a hybrid layout, say, where cgroup v2 holds no controller):
// the cgroup tests of steps 09 on, the overlay tests of step 10 (overlayfs differs between
// kernels too), the matrix's cgroup rows and step 09's limits, enforced (vm/init.sh says
// why each, and why the rest is left to `npm test` on this machine). It boots
// a VM with QEMU on Debian's kernel (vm/kernel.ts) and a small initramfs (vm/initramfs.ts),
// whose root filesystem is this machine's own, read-only, with the VM's writes in RAM
// (vm/initramfs-init.sh). Inside, vm/init.sh mounts cgroup v2 alone and runs the tests;
// they report to a shared folder, which this file turns into its exit status. KVM is
// tried first, then TCG (emulation: slower, but it boots anywhere). Nothing is installed
// and nothing is left on the machine; the kernel and the initramfs stay cached in
// node_modules/.cache/vm. Needs: qemu-system-x86, busybox-static, kmod (depmod).
//   CFS_VM_ACCEL=tcg npm run test:vm    skips the KVM attempt
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from 'zx/core';
import { PROJECT_DIR } from '../shared/runtime/project-dir.ts';
import { fail as failWith, messageOf, parseCommandLine } from './lib/cli.ts';
import { ensureInitramfs } from './vm/initramfs.ts';
import { ensureKernel, type Kernel } from './vm/kernel.ts';
import { type Accel, type Boot, boot } from './vm/qemu.ts';

const REPO = PROJECT_DIR.replace(/\/$/, '');
const CACHE = join(REPO, 'node_modules/.cache/vm');
const BOOT_TIMEOUT_MS: Record<Accel, number> = { kvm: 15_000, tcg: 180_000 }; // until /init runs
const RUN_TIMEOUT_MS = 60 * 60_000;
const TIME_SCALE: Record<Accel, number> = { kvm: 1, tcg: 12 }; // QEMU's emulation: 20x slower than KVM

function fail(message: string): never {
  failWith(`test:vm: ${message}`);
}

parseCommandLine('usage: npm run test:vm   (CFS_VM_ACCEL=tcg: skip the KVM attempt)', {});
if (/\s/.test(REPO)) fail(`the project's path has a space, which the kernel's command line cannot carry: ${REPO}`);
if (/^\/(run|proc|sys|dev)\//.test(REPO)) fail(`the project is in ${REPO.split('/')[1]}, which the VM mounts afresh: move it`);
if ((await $({ nothrow: true, quiet: true })`qemu-system-x86_64 --version`).exitCode !== 0) {
  fail('qemu-system-x86_64 is missing: apt-get install qemu-system-x86');
}

mkdirSync(CACHE, { recursive: true });
let kernel: Kernel;
let initramfs: string;
try {
  kernel = await ensureKernel(CACHE);
  initramfs = await ensureInitramfs(CACHE, kernel);
} catch (error) {
  fail(`preparing the VM: ${messageOf(error)}`);
}

// cgroup_no_v1=all: no controller goes to cgroup v1, so v2 has them all. quiet: only the
// kernel's warnings on the console. panic=-1: a kernel panic reboots at once, and
// -no-reboot turns that into QEMU's exit. tsc=reliable: under TCG the kernel finds the
// CPUs' clocks (TSC) out of step and falls back to an emulated timer chip, and every
// clock read becomes 10x slower. The kernel hands what it does not know (CFS_*) to
// /init as environment variables; the tests' time limits stretch under TCG.
const cmdline = (accel: Accel) =>
  `console=ttyS0 quiet panic=-1 cgroup_no_v1=all tsc=reliable CFS_PROJECT=${REPO} CFS_TEST_TIME_SCALE=${TIME_SCALE[accel]}`;
const accels: Accel[] = process.env.CFS_VM_ACCEL === 'tcg' || !kvmUsable() ? ['tcg'] : ['kvm', 'tcg'];
// The folder the VM reports to, results-<our PID>, removed however we end; and those of
// runners that were killed outright (SIGKILL), whose PID is gone.
for (const old of readdirSync(CACHE).filter((name) => /^results-\d+$/.test(name))) {
  if (!existsSync(`/proc/${old.slice('results-'.length)}`)) rmSync(join(CACHE, old), { recursive: true, force: true });
}
const results = join(CACHE, `results-${process.pid}`);
mkdirSync(results);
process.on('exit', () => rmSync(results, { recursive: true, force: true }));
let run: Boot | undefined;
let accel: Accel | undefined;
let rebootIfStuck = true; // once: QEMU's emulation, not the tests (vm/qemu.ts)
for (let next = 0; next < accels.length; next++) {
  accel = accels[next]!;
  process.stderr.write(`test:vm: booting Linux ${kernel.version} under ${accel.toUpperCase()}, 2 CPUs, 3 GiB\n`);
  run = await boot({
    accel,
    kernel: kernel.image,
    initramfs,
    cmdline: cmdline(accel),
    results,
    bootTimeoutMs: BOOT_TIMEOUT_MS[accel],
    runTimeoutMs: RUN_TIMEOUT_MS,
  });
  if (run.ending.kind === 'stuck' && rebootIfStuck) {
    rebootIfStuck = false;
    process.stderr.write(`test:vm: "${run.ending.line}": the VM was killed; booting it again, its results cleared\n`);
    rmSync(results, { recursive: true, force: true });
    mkdirSync(results);
    next--;
    continue;
  }
  if (run.bootedMs !== undefined || run.ending.kind === 'interrupted') break;
  process.stderr.write(`test:vm: the kernel did not start /init under ${accel.toUpperCase()}: ${why(run)}\n`);
}
report(run!, accel!, readStatus(results), suiteCount(results));

interface Phase {
  value: string; // the status, or for "kernel": <uname -r>/<filesystem type of /sys/fs/cgroup>
  seconds: number;
}

/** The lines "<phase> <value> <seconds>" that the VM's init.sh wrote, as they came. */
function readStatus(dir: string): Map<string, Phase> {
  const file = join(dir, 'status');
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  return new Map(
    lines.map((line) => line.split(' ')).map(([phase, value, seconds]) => [phase!, { value: value!, seconds: Number(seconds) }]),
  );
}

/** vitest's count (its json report), or why there is none. */
function suiteCount(dir: string): string {
  try {
    const report = JSON.parse(readFileSync(join(dir, 'suite.json'), 'utf8'));
    if (report.numPassedTests + report.numFailedTests === 0) return 'no test ran';
    return `${report.numPassedTests} passed, ${report.numFailedTests} failed (${report.numPendingTests} skipped by the filter)`;
  } catch {
    return 'no report';
  }
}

/** One line on how the run went, and the exit status: the suite's, then the matrix's, then the limits'. */
function report(run: Boot, accel: Accel, phases: Map<string, Phase>, count: string): never {
  if (run.ending.kind === 'interrupted') fail(`interrupted (${run.ending.signal}): the VM was killed`);
  if (run.bootedMs === undefined) fail(`the VM did not boot: ${why(run)}`);
  if (run.ending.kind === 'timeout') fail(`the VM was killed after ${RUN_TIMEOUT_MS / 60_000} min: the run did not end`);
  if (run.ending.kind === 'stuck') fail(`a CPU of the VM got stuck again ("${run.ending.line}"): the VM was killed`);
  const [release, fsType] = (phases.get('kernel')?.value ?? '?/?').split('/');
  if (fsType !== 'cgroup2fs') fail(`/sys/fs/cgroup in the VM is ${fsType}, not cgroup2fs (${why(run)})`);
  const suite = phases.get('suite');
  if (!suite || /^no /.test(count)) fail(`the suite did not run in the VM: ${suite ? count : why(run)}`);
  const seconds = (ms = 0) => `${Math.round(ms / 1000)} s`;
  const results = ['suite', 'matrix', 'limits'].map((name) => {
    const phase = phases.get(name);
    const verdict = !phase ? 'did not run' : phase.value === '0' ? 'passed' : `failed (status ${phase.value})`;
    return { name, status: phase ? Number(phase.value) : 1, line: `${name} ${verdict}${phase ? ` in ${phase.seconds} s` : ''}` };
  });
  console.log(
    `test:vm: Linux ${release}, ${fsType}, ${accel.toUpperCase()}: booted in ${seconds(run.userlandMs)}, ran ${seconds(run.endedMs)} in all`,
  );
  console.log(`test:vm: ${results.map(({ line }) => line).join('; ')}. The suite: ${count}`);
  process.exit(results.find(({ status }) => status !== 0)?.status ?? 0);
}

function why(run: Boot): string {
  const { ending } = run;
  if (ending.kind === 'no boot') return 'no sign of /init in time: killed';
  if (ending.kind !== 'exited') return ending.kind;
  const last = ending.stderr.trim().split('\n').pop();
  return `QEMU ended with ${ending.signal ?? `status ${ending.code}`}${last ? `: ${last}` : ''}`;
}

function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
