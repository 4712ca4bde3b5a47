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
//
// `--html <file>` (`--lang ja`: in Japanese) also writes the same run as one page to
// project: charts and the table (scripts/report/bench-page.ts draws it). The bench in the
// namespaces renders it; the bench outside writes it where asked (the one inside has a
// /run of its own, and works in the repository's folder). `--png <file>`: a picture of
// that page, as a headless browser shows it (scripts/report/browser.ts).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { $ } from 'zx/core';
import { MNT_DETACH, mount, umount2 } from '../shared/kernel/libc.ts';
import { readMounts } from '../shared/kernel/mountinfo.ts';
import { dockerLikeSteps, stepNumber } from '../steps/list.ts';
import { differences, snapshotMachine } from '../test/harness/machine.ts';
import { unmountUnder } from './clean.ts';
import { fail, messageOf, parseCommandLine, usageError } from './lib/cli.ts';
import { type ContainerMemory, type PodmanBench, setUpPodman } from './lib/podman.ts';
import { type BenchContender, type BenchReport, captionLines, leastPrivilegeLine, renderBenchPage } from './report/bench-page.ts';
import type { Lang } from './report/page.ts';

const REPO = path.resolve(import.meta.dirname, '..');
const NODE = process.execPath;
const INSIDE = 'CFS_BENCH_NAMESPACE'; // set once the bench runs in its own namespaces
const PAGE = 'CFS_BENCH_PAGE'; // where the bench inside writes the page, for the bench outside to put in place

const USAGE = 'usage: npm run bench -- [--runs N] [--warmup N] [--html FILE [--lang en|ja] [--png FILE]]';
const { values: options } = parseCommandLine(USAGE, {
  options: {
    runs: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '3' },
    html: { type: 'string' },
    lang: { type: 'string' },
    png: { type: 'string' },
  },
});
const RUNS = Number(options.runs);
const WARMUP = Number(options.warmup);
const LANGS: readonly string[] = ['en', 'ja'] satisfies Lang[];
const LANG = (options.lang ?? 'en') as Lang;

if (!(RUNS >= 1 && WARMUP >= 0)) usageError(USAGE);
if (!LANGS.includes(LANG)) usageError(`--lang ${options.lang}: en or ja; ${USAGE}`);
if (options.lang !== undefined && options.html === undefined) usageError(`--lang is the page's language: give --html FILE too; ${USAGE}`);
if (options.png !== undefined && (options.html === undefined || options.png === ''))
  usageError(`--png FILE is a picture of the page: give --html FILE too; ${USAGE}`);
// The page's file, checked now rather than after the runs: a file in a folder that exists.
const pageFile = options.html === undefined || process.env[INSIDE] ? undefined : path.resolve(options.html);
if (pageFile !== undefined && (options.html === '' || isDirectory(pageFile) || !isDirectory(path.dirname(pageFile)))) {
  usageError(`--html ${options.html}: not a file in a folder that exists; ${USAGE}`);
}
function isDirectory(file: string): boolean {
  return statSync(file, { throwIfNoEntry: false })?.isDirectory() ?? false;
}
if (process.getuid?.() !== 0) fail('The steps create namespaces: the bench needs root. Run: sudo npm run bench');
$.cwd = REPO;
if (!process.env[INSIDE]) {
  // Mount propagation private: nothing mounted inside reaches the machine. A network
  // namespace of its own: step 12's bridge, table and forwarding end with it. Then the
  // check the tests make: the machine is as it was.
  const before = snapshotMachine(`${INSIDE}=1`);
  const namespaces = ['--mount', '--uts', '--ipc', '--net', '--propagation', 'private'];
  // The page comes out through a folder of the machine's /tmp (the bench inside has a /run of its own).
  const handoff = pageFile && mkdtempSync(path.join(os.tmpdir(), 'cfs-bench-page-'));
  const inside = { ...process.env, [INSIDE]: '1', ...(handoff && { [PAGE]: path.join(handoff, 'page.html') }) };
  const bench = await $({ stdio: 'inherit', nothrow: true, env: inside })`unshare ${namespaces} ${[
    NODE,
    import.meta.filename,
    ...process.argv.slice(2),
  ]}`;
  const page = handoff ? takePage(handoff) : undefined;
  if (bench.exitCode === 127) fail('unshare (util-linux) is needed: sudo apt-get install util-linux');
  if (pageFile && page !== undefined) {
    try {
      writeFileSync(pageFile, page);
    } catch (error) {
      fail(`bench: writing the page: ${messageOf(error)}`);
    }
    process.stderr.write(`the page: ${pageFile}\n`);
    if (options.png !== undefined) {
      // The page as a headless browser shows it; the browser only when asked
      const { screenshotPage } = await import('./report/browser.ts');
      await screenshotPage(pageFile, options.png, { width: 1200, scale: 0.6 }).catch((error) =>
        fail(`bench: the picture: ${messageOf(error)}`),
      );
      process.stderr.write(`the picture: ${options.png}\n`);
    }
  }
  const changed = differences(before, snapshotMachine(`${INSIDE}=1`));
  if (changed.length > 0) fail(`the bench changed this machine: ${changed.join('; ')}`);
  process.exit(bench.exitCode ?? 1);
}

/** The page the bench inside wrote in `handoff` (none if it failed before); the folder removed. */
function takePage(handoff: string): string | undefined {
  try {
    return readFileSync(path.join(handoff, 'page.html'), 'utf8');
  } catch {
    return undefined;
  } finally {
    rmSync(handoff, { recursive: true, force: true });
  }
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
delete env[PAGE];
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

for (const step of dockerLikeSteps()) {
  add(
    `step ${step}`,
    (command) => [NODE, path.join(REPO, 'steps', step, 'main.ts'), 'run', ...command],
    () => unmountUnder(rootfs),
  );
}
// What step 14's filter costs: the same step without one (its capabilities dropped still).
const leastPrivilege = dockerLikeSteps().find((step) => stepNumber(step) === 14);
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

// podman driving our OCI runtime (step 15) next to podman driving runc: the same podman,
// storage and image (scripts/lib/podman.ts). CFS_OCI_RUNTIME=/usr/bin/runc puts runc on
// both sides: what the bench itself adds. If ours fails, its row says so.
const ociRuntime = path.resolve(process.env.CFS_OCI_RUNTIME ?? path.join(REPO, 'steps/15-oci/runtime'));
const podmanRows = new Set<Contender>();
let podman: PodmanBench | undefined;
if (installed('podman') && installed('conmon')) {
  const ready = setUpPodman(work, ociRuntime);
  if (typeof ready === 'string') notes.push(`podman: ${ready}`);
  else {
    podman = ready;
    process.on('exit', () => ready.cleanUp()); // if the bench ends early; cleaning twice does no harm
    for (const { label, path: runtime } of ready.runtimes) {
      add(`podman run --rm img true, runtime ${label}`, (command) => ready.argv(runtime, command));
      podmanRows.add(contenders.at(-1)!);
    }
  }
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

// (podman's rows: conmon holds the container, not podman's process tree; measured below)
for (const contender of contenders.filter((c) => !c.failure && !podmanRows.has(c))) await measureMemory(contender);
// A container that sleeps (podman run -d img sleep 1000), with each runtime: every process
// in its cgroup. Then podman's containers, processes and cgroups go.
const containerMemory: ContainerMemory[] = podman?.memory() ?? [];
podman?.cleanUp();

// ---------------------------------------------------------------------------------
// The report: as a Markdown table, and (--html) as a page, both from the same BenchReport's numbers.
const median = (times: number[]) => {
  const sorted = [...times].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
/** The `p` quantile of `times`, between the two nearest runs (for p = 0.5, the median). */
const quantile = (times: number[], p: number) => {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (sorted.length - 1) * p;
  const below = sorted[Math.floor(at)]!;
  return below + (sorted[Math.ceil(at)]! - below) * (at - Math.floor(at));
};
const ms = (value: number) => value.toFixed(1);
const ratioOf = (value: number, base: Contender | undefined) =>
  base && !base.failure && base.times.length ? value / median(base.times) : undefined;
const ratio = (value: number, base: Contender | undefined) => {
  const found = ratioOf(value, base);
  return found === undefined ? '-' : `${found.toFixed(2)}x`;
};

const firstLine = (command: string, ...args: string[]) => $.sync({ nothrow: true })`${command} ${args}`.stdout.split('\n')[0]!.trim();
const osRelease = readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)/m)?.[1] ?? 'Linux';
const versions = ['runc', 'crun', 'bwrap', 'unshare'].filter((tool) => !missing.includes(tool)).map((tool) => firstLine(tool, '--version'));
const aptPackage = (tool: string) => (tool === 'bwrap' ? 'bubblewrap' : tool === 'unshare' ? 'util-linux' : tool);
const stepTime = (number: number) => contenders.find((c) => c.name.startsWith(`step ${String(number).padStart(2, '0')}-`));
const [before, after] = [stepTime(13), stepTime(14)];
const unconfined = contenders.find((c) => c.name.endsWith(UNCONFINED.join(' ')));

const report: BenchReport = {
  runs: RUNS,
  warmup: WARMUP,
  machine: {
    node: process.version,
    nodePath: path.relative(REPO, NODE) || NODE,
    os: osRelease,
    kernel: os.release(),
    arch: os.arch(),
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model.trim() ?? '',
    compileCache: path.relative(REPO, compileCache),
    extraCaCerts: Boolean(process.env.NODE_EXTRA_CA_CERTS),
  },
  tools: versions,
  contenders: contenders.map(({ name, times, failure, memory }): BenchContender => {
    const kind = name.startsWith('step ') ? 'step' : 'anchor'; // the rest: the tools and the Node floors
    if (failure || times.length === 0) return { name, kind, failure };
    const value = median(times);
    return {
      name,
      kind,
      time: {
        median: value,
        fastest: Math.min(...times),
        slowest: Math.max(...times),
        q1: quantile(times, 0.25),
        q3: quantile(times, 0.75),
      },
      vsRunc: ratioOf(value, runc),
      vsTwoNodes: ratioOf(value, twoNodes),
      memory: memory && { peakRss: memory.bytes, pss: memory.pss, processes: memory.processes },
    };
  }),
  leastPrivilege:
    before?.times.length && after?.times.length && unconfined?.times.length
      ? { cost: median(after.times) - median(before.times), filter: median(after.times) - median(unconfined.times) }
      : undefined,
  notes: [...notes, ...podmanLines()],
  missing: missing.map((tool) => ({ tool, package: aptPackage(tool) })),
};

const [heading, ...machineLines] = captionLines(report, 'en');
console.log(`\n${heading}`);
for (const line of machineLines) console.log(line);
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
const costOfLeastPrivilege = leastPrivilegeLine(report, 'en');
if (costOfLeastPrivilege) console.log(`\n${costOfLeastPrivilege}`);
console.log(
  '\nmemory: the sum of the peak resident memory (VmHWM) of every process of the container, runtime included, while it runs `sleep 0.5`.',
);
for (const line of podmanLines()) console.log(`\n${line}`);
if (missing.length)
  console.log(
    `Not installed, so not compared (the bench installs nothing): ${missing.join(', ')}. On Debian/Ubuntu: sudo apt-get install ${missing.map(aptPackage).join(' ')}`,
  );

/** podman's lines: ours against runc, both driven by podman; then the memory of a container that sleeps. */
function podmanLines(): string[] {
  if (!podman) return [];
  const [ours, runcRow] = [...podmanRows];
  const lines: string[] = [];
  if (ours?.times.length && runcRow?.times.length) {
    const factor = median(ours.times) / median(runcRow.times);
    lines.push(`podman run --rm img true: ${factor.toFixed(2)}x with our runtime what it takes with runc (medians).`);
  }
  const kib = (bytes: number | undefined) => (bytes === undefined ? '-' : `${Math.round(bytes / 1024)} KiB`);
  const each = containerMemory.map(({ label, failure, processes, rss, pss, cgroup }) =>
    failure
      ? `${label}: failed: ${failure}`
      : `${label}: ${processes} process(es), RSS ${kib(rss)}, Pss ${kib(pss)}, memory cgroup ${kib(cgroup)}`,
  );
  lines.push(`A container that sleeps (podman run -d img sleep 1000), all the processes of its cgroup: ${each.join('; ')}.`);
  return lines;
}

// The page of the same run, for the bench outside to write (--html).
if (process.env[PAGE]) writeFileSync(process.env[PAGE], renderBenchPage(report, LANG));
