// npm run bench: how long each step takes to run `/bin/true` in a container, from start
// to exit, side by side with real tools, and how much memory a container costs.
//   sudo npm run bench [-- --runs 30 --warmup 3]
// Next to the steps: unshare(1), bubblewrap, runc and crun, those that are installed
// (the bench installs nothing), and the floor of a runtime written for Node: starting
// Node once (`node -e 0`), and twice, one waiting for the other, as our runtime and its
// re-executed child do. Everything takes turns, round after round, so that a busy
// moment of the machine hits all alike; warm-up rounds come first (they also fill
// Node's compile cache). The table shows medians.
//
// It runs in a mount, UTS, IPC and network namespace of its own, like the tests' sandbox: what a
// step leaks (step 05's /proc mount) stays in there, and goes with it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { $ } from 'zx/core';
import { MNT_DETACH, mount, umount2 } from '../shared/kernel/libc.ts';
import { readMounts } from '../shared/kernel/mountinfo.ts';
import { listSteps, stepNumber } from '../steps/list.ts';
import { differences, snapshotMachine } from '../test/harness/machine.ts';
import { unmountUnder } from './clean.ts';
import { fail, messageOf, parseCommandLine, usageError } from './lib/cli.ts';

const REPO = path.resolve(import.meta.dirname, '..');
const NODE = process.execPath;
const INSIDE = 'CFS_BENCH_NAMESPACE'; // set once the bench runs in its own namespaces

const USAGE = 'usage: npm run bench -- [--runs N] [--warmup N]';
const { values: options } = parseCommandLine(USAGE, {
  options: { runs: { type: 'string', default: '30' }, warmup: { type: 'string', default: '3' } },
});
const RUNS = Number(options.runs);
const WARMUP = Number(options.warmup);

if (!(RUNS >= 1 && WARMUP >= 0)) usageError(USAGE);
if (process.getuid?.() !== 0) fail('The steps create namespaces: the bench needs root. Run: sudo npm run bench');
$.cwd = REPO;
if (!process.env[INSIDE]) {
  // Mount propagation private: nothing mounted inside reaches the machine. A network
  // namespace of its own: step 12's bridge, table and forwarding end with it. Then the
  // check the tests make: the machine is as it was.
  const before = snapshotMachine(`${INSIDE}=1`);
  const namespaces = ['--mount', '--uts', '--ipc', '--net', '--propagation', 'private'];
  const bench = await $({ stdio: 'inherit', nothrow: true, env: { ...process.env, [INSIDE]: '1' } })`unshare ${namespaces} ${[
    NODE,
    import.meta.filename,
    ...process.argv.slice(2),
  ]}`;
  if (bench.exitCode === 127) fail('unshare (util-linux) is needed: sudo apt-get install util-linux');
  const changed = differences(before, snapshotMachine(`${INSIDE}=1`));
  if (changed.length > 0) fail(`the bench changed this machine: ${changed.join('; ')}`);
  process.exit(bench.exitCode ?? 1);
}

// ---------------------------------------------------------------------------------
// The place: a tmpfs that ends with this namespace, holding a root filesystem.
const work = mkdtempSync(path.join(os.tmpdir(), 'cfs-bench-'));
mount('cfs-bench', work, 'tmpfs', 0, 'mode=755');
mount('cfs-bench-run', '/run', 'tmpfs', 0, 'mode=755'); // the runtime's locks of ID ranges: ours alone
process.on('exit', () => {
  umount2(work, MNT_DETACH);
  rmdirSync(work);
});
const rootfs = path.join(work, 'rootfs');
try {
  await $({ env: { ...process.env, CONTAINERFS: rootfs } })`${NODE} scripts/rootfs.ts`;
} catch (error) {
  fail(`bench: building the root filesystem: ${messageOf(error)}`);
}

const compileCache = path.join(REPO, 'node_modules/.cache/node-compile-cache');
const env: NodeJS.ProcessEnv = { ...process.env, CONTAINERFS: rootfs, NODE_COMPILE_CACHE: compileCache };
delete env[INSIDE];
const notes: string[] = [];

// ---------------------------------------------------------------------------------
// The contenders. `argv(command)` runs `command` in a container (or, for the floors,
// starts Node); `after` tidies up between runs, untimed.
interface Contender {
  name: string;
  argv(command: string[]): string[];
  after?(): void;
  times: number[];
  failure?: string;
  memory?: { bytes: number; pss: number; processes: number };
}

const contenders: Contender[] = [];
const add = (name: string, argv: Contender['argv'], after?: () => void) => contenders.push({ name, argv, after, times: [] });

for (const step of listSteps()) {
  add(
    `step ${step}`,
    (command) => [NODE, path.join(REPO, 'steps', step, 'main.ts'), 'run', ...command],
    () => unmountUnder(rootfs),
  );
}
// What step 14's filter costs: the same step without one (its capabilities dropped still).
const leastPrivilege = listSteps().find((step) => stepNumber(step) === 14);
const UNCONFINED = ['--security-opt', 'seccomp=unconfined'];
if (leastPrivilege) {
  add(
    `step ${leastPrivilege} ${UNCONFINED.join(' ')}`,
    (command) => [NODE, path.join(REPO, 'steps', leastPrivilege, 'main.ts'), 'run', ...UNCONFINED, ...command],
    () => unmountUnder(rootfs),
  );
}

const missing: string[] = [];
const installed = (tool: string) => {
  const found = process.env.PATH!.split(':').some((dir) => existsSync(path.join(dir, tool)));
  if (!found) missing.push(tool);
  return found;
};
if (installed('unshare')) {
  add('unshare(1) -uipm --fork --root --mount-proc', (command) => [
    'unshare',
    '--uts',
    '--ipc',
    '--pid',
    '--mount',
    '--fork',
    `--root=${rootfs}`,
    '--mount-proc',
    ...command,
  ]);
}
if (installed('bwrap')) {
  add('bubblewrap --unshare-uts/ipc/pid', (command) => [
    'bwrap',
    '--unshare-uts',
    '--unshare-ipc',
    '--unshare-pid',
    '--bind',
    rootfs,
    '/',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    ...command,
  ]);
}
for (const tool of ['runc', 'crun']) {
  if (!installed(tool)) continue;
  const state = path.join(work, `${tool}-state`);
  add(`${tool} run (its default spec)`, (command) => [
    tool,
    '--root',
    state,
    'run',
    '--bundle',
    bundle(tool, command),
    `cfs-bench-${tool}`,
  ]);
}
if (missing.includes('crun') === false && hybridCgroups()) {
  // crun refuses a machine with both cgroup trees; hide v2 from it (and from everyone
  // else here: the steps still find v1).
  umount2('/sys/fs/cgroup/unified', MNT_DETACH);
  notes.push("cgroups: hybrid layout; the v2 tree is unmounted in the bench's namespace, or crun refuses to run");
}

const waitFor = (command: string[]) =>
  `require('child_process').spawnSync(${JSON.stringify(command[0])}, ${JSON.stringify(command.slice(1))})`;
add('Node floor: node -e 0', (command) => [NODE, '-e', command[0] === '/bin/true' ? '0' : waitFor(command)]);
add('Node floor: node starts node, waits', (command) => [
  NODE,
  '-e',
  `require('child_process').spawnSync(process.execPath, ['-e', ${JSON.stringify(command[0] === '/bin/true' ? '0' : waitFor(command))}])`,
]);
const twoNodes = contenders.at(-1)!;
const runc = contenders.find((contender) => contender.name.startsWith('runc'));

/** An OCI bundle that runs `command` in our root filesystem: `<tool> spec`, edited. */
function bundle(tool: string, command: string[]): string {
  const dir = path.join(work, `${tool}-bundle-${command.join('-').replace(/\W/g, '')}`);
  if (existsSync(dir)) return dir;
  mkdirSync(dir);
  $.sync({ cwd: dir })`${tool} spec`;
  const spec = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
  spec.process.terminal = false;
  spec.process.args = command;
  spec.root = { path: rootfs, readonly: true };
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
  return dir;
}

function hybridCgroups(): boolean {
  const mounts = readMounts();
  const at = (mountPoint: string, type: string) => mounts.some((m) => m.mountPoint === mountPoint && m.type === type);
  return at('/sys/fs/cgroup', 'tmpfs') && at('/sys/fs/cgroup/unified', 'cgroup2');
}

// ---------------------------------------------------------------------------------
// Timing.
// The contenders run with spawnSync, not zx's $: no shell started in between, nothing in
// the time but the contender itself.
function runOnce(contender: Contender, record: boolean): void {
  const [file, ...args] = contender.argv(['/bin/true']);
  const start = process.hrtime.bigint();
  const run = spawnSync(file!, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  contender.after?.();
  if (run.status !== 0) {
    contender.failure = `status ${run.status}: ${String(run.stderr).trim().split('\n').at(-1)}`;
  } else if (record) {
    contender.times.push(elapsed);
  }
}

function shuffled<T>(items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

process.stderr.write(`timing ${contenders.length} contenders: ${WARMUP} warm-up rounds, ${RUNS} rounds `);
for (let round = 0; round < WARMUP + RUNS; round++) {
  for (const contender of shuffled(contenders.filter((c) => !c.failure))) runOnce(contender, round >= WARMUP);
  process.stderr.write('.');
}
process.stderr.write('\n');

// ---------------------------------------------------------------------------------
// Memory: run `sleep 0.5` in each container and, while it sleeps, add up the peak
// resident memory (VmHWM) of every process of the container, the runtime included; and
// their proportional set size (Pss) then: RSS counts the pages of the node binary that
// two Node processes share once for each, Pss shares them out.
async function measureMemory(contender: Contender): Promise<void> {
  const [file, ...args] = contender.argv(['sleep', '0.5']);
  const child = spawn(file!, args, { env, stdio: 'ignore' });
  const ended = new Promise((resolve) => child.on('close', resolve));
  for (let waited = 0; waited < 3000 && child.exitCode === null; waited += 5) {
    const tree = processTree(child.pid!);
    if (tree.some(({ name }) => name === 'sleep')) {
      const bytes = tree.reduce((sum, { pid }) => sum + peakResident(pid), 0);
      const pss = tree.reduce((sum, { pid }) => sum + proportional(pid), 0);
      contender.memory = { bytes, pss, processes: tree.length };
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await ended;
  contender.after?.();
}

/** `root` and every process below it: [{ pid, name }]. */
function processTree(root: number): { pid: number; name: string }[] {
  const parents = new Map<number, { ppid: number; name: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8'); // "pid (name) state ppid ..."
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      parents.set(Number(entry), { ppid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]), name });
    } catch {
      // it ended while we looked
    }
  }
  const tree = [{ pid: root, name: parents.get(root)?.name ?? '' }];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, { ppid, name }] of parents) if (ppid === tree[i]!.pid) tree.push({ pid, name });
  }
  return tree;
}

/** A "Name:  N kB" line of a /proc/<pid> file, in bytes; 0 when the process is gone. */
function kilobytes(file: string, name: string): number {
  try {
    return Number(readFileSync(file, 'utf8').match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}
const proportional = (pid: number) => kilobytes(`/proc/${pid}/smaps_rollup`, 'Pss');
const peakResident = (pid: number) => kilobytes(`/proc/${pid}/status`, 'VmHWM');

for (const contender of contenders.filter((c) => !c.failure)) await measureMemory(contender);

// ---------------------------------------------------------------------------------
// The report, as a Markdown table.
const median = (times: number[]) => {
  const sorted = [...times].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const ms = (value: number) => value.toFixed(1);
const ratio = (value: number, base: Contender | undefined) =>
  base && !base.failure && base.times.length ? `${(value / median(base.times)).toFixed(2)}x` : '-';

const firstLine = (command: string, ...args: string[]) => $.sync({ nothrow: true })`${command} ${args}`.stdout.split('\n')[0]!.trim();
const osRelease = readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)/m)?.[1] ?? 'Linux';

console.log(`\n/bin/true in a container, start to exit: median of ${RUNS} runs each (after ${WARMUP} warm-up runs), all taking turns.`);
console.log(
  `Node ${process.version} (${path.relative(REPO, NODE) || NODE}); ${osRelease}, kernel ${os.release()}, ${os.arch()}, ${os.availableParallelism()} x ${os.cpus()[0]?.model.trim()}`,
);
console.log(
  `NODE_COMPILE_CACHE=${path.relative(REPO, compileCache)}; NODE_EXTRA_CA_CERTS ${process.env.NODE_EXTRA_CA_CERTS ? 'is set' : 'is not set'}`,
);
const versions = ['runc', 'crun', 'bwrap', 'unshare'].filter((tool) => !missing.includes(tool)).map((tool) => firstLine(tool, '--version'));
if (versions.length) console.log(`Tools: ${versions.join('; ')}`);
for (const note of notes) console.log(note);
console.log('');
console.log('| what | median ms | fastest ms | vs runc | vs two Node starts | memory MiB: peak RSS (processes) | Pss MiB |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const contender of contenders) {
  if (contender.failure || contender.times.length === 0) {
    console.log(`| ${contender.name} | failed: ${contender.failure ?? 'no run'} | | | | | |`);
    continue;
  }
  const value = median(contender.times);
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
  const memory = contender.memory
    ? `${mib(contender.memory.bytes)} (${contender.memory.processes}) | ${mib(contender.memory.pss)}`
    : '- | -';
  console.log(
    `| ${contender.name} | ${ms(value)} | ${ms(Math.min(...contender.times))} | ${ratio(value, runc)} | ${ratio(value, twoNodes)} | ${memory} |`,
  );
}
const stepTime = (number: number) => contenders.find((c) => c.name.startsWith(`step ${String(number).padStart(2, '0')}-`));
const [before, after] = [stepTime(13), stepTime(14)];
const unconfined = contenders.find((c) => c.name.endsWith(UNCONFINED.join(' ')));
if (before?.times.length && after?.times.length && unconfined?.times.length) {
  const cost = (a: Contender, b: Contender) => ms(median(a.times) - median(b.times));
  console.log(
    `\nleast privilege (step 14 - step 13): ${cost(after, before)} ms; of it, the seccomp filter (step 14 - unconfined): ${cost(after, unconfined)} ms`,
  );
}
console.log(
  '\nmemory: the sum of the peak resident memory (VmHWM) of every process of the container, runtime included, while it runs `sleep 0.5`.',
);
if (missing.length)
  console.log(
    `Not installed, so not compared (the bench installs nothing): ${missing.join(', ')}. On Debian/Ubuntu: sudo apt-get install ${missing.map((tool) => (tool === 'bwrap' ? 'bubblewrap' : tool === 'unshare' ? 'util-linux' : tool)).join(' ')}`,
  );
