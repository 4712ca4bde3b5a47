// crun's own test suite (Debian's crun 1.8.1 source, tests/test_*.py) run against any
// OCI runtime, as runc is judged against crun: same bundles, same calls, same checks.
// The source is fetched once into node_modules/.cache/crun-suite (apt-get source, with a
// source list of our own: /etc/apt stays as it is), its tests/init built there.
// Each run is a throwaway sandbox host of its own (as test/harness/sandbox.ts's), made
// to look like the machine crun's developers run the suite on:
//  - cgroup v1 only: crun refuses a hybrid machine whose cgroup2 mount has a controller
//    ("cgroups in hybrid mode not supported"), so the sandbox unmounts /sys/fs/cgroup/unified;
//  - its own PID namespace and /proc: test exec-root-netns-with-userns joins /proc/1/ns/net
//    (a PID 1 of ours), and exec_write_pid_file wants a pid of 5 digits (ns_last_pid: 20000 on);
//  - a terminal (script -qfec): test_tty.py skips everything when stdout is no tty;
//  - `import libmount` answered by test/fixtures/libmount.py, or test_mounts.py plans nothing;
//  - /tmp and /run on tmpfs: the suite writes bundles to /tmp and never removes them.
// The cgroups are the machine's, not the sandbox's: what the suite leaves there is removed
// afterwards: those of this run's containers only (removeCgroups).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMounts } from '../../shared/kernel/mountinfo.ts';
import { DEFAULT_CGROUP_PARENT } from '../../shared/runtime/config.ts';
import { REPO, RUN_MARKER, TIME_SCALE } from './sandbox.ts';

const CACHE = join(REPO, 'node_modules/.cache/crun-suite');
const SOURCE = join(CACHE, 'crun');
const INIT = join(SOURCE, 'tests/init');
const PYTHON = '/usr/bin/python3'; // Debian's, as on CI: not a pyenv shim that comes first on a PATH
// The suite is crun 1.8.1's whatever the machine's release: expectations are about its tests.
const APT_SOURCES = [
  'deb-src http://deb.debian.org/debian bookworm main',
  'deb-src http://deb.debian.org/debian-security bookworm-security main',
];
/** Per test file; test_start.py's sd-notify tests alone take 30 s with crun. */
const FILE_TIMEOUT_S = Math.round(60 * TIME_SCALE);

type Result = 'ok' | 'not ok' | 'skip' | 'not run';
interface TestResult {
  file: string; // test_exec
  name: string; // exec-add-capability
  result: Result; // 'not run': planned, but its file ended (its time ran out) first
  detail: string; // what the file printed before this result (the runtime's errors), for 'not ok'
}
export interface SuiteRun {
  runtime: string;
  tests: TestResult[];
  seconds: Record<string, number>; // wall time of each file
  timedOut: string[]; // files killed at FILE_TIMEOUT_S
  containers: string[]; // the names the suite gave its containers (test-tmpXXXXXXXX)
  leftovers: string[]; // cgroups of theirs that could not be removed (processes still in them)
  stderr: string; // the sandbox's own complaints (a file's output goes to its tests)
}

/** crun's source with tests/init built, fetched the first time; throws, saying what to install. */
export function crunSuiteSource(): string {
  const tools: [string, string][] = [
    [PYTHON, 'python3'],
    ['gcc', 'gcc libc6-dev'],
    ['dpkg-source', 'dpkg-dev'],
    ['script', 'util-linux'],
  ];
  for (const [tool, packages] of tools) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} is missing for crun's test suite: sudo apt-get install ${packages} (see .ci/run)`);
    }
  }
  if (existsSync(INIT)) return SOURCE;
  mkdirSync(join(REPO, 'node_modules/.cache'), { recursive: true });
  const download = mkdtempSync(`${CACHE}-`);
  const apt = join(download, 'apt');
  mkdirSync(join(apt, 'lists/partial'), { recursive: true });
  mkdirSync(join(apt, 'cache/archives/partial'), { recursive: true });
  writeFileSync(join(apt, 'sources.list'), `${APT_SOURCES.join('\n')}\n`);
  // Our own source list, package lists and cache: the machine's apt state is not touched.
  const options = [
    `-o Dir::Etc::SourceList=${apt}/sources.list`,
    '-o Dir::Etc::SourceParts=/dev/null',
    `-o Dir::State::Lists=${apt}/lists`,
    `-o Dir::Cache=${apt}/cache`,
  ].join(' ');
  try {
    execFileSync(
      'sh',
      [
        '-ec',
        `apt-get -qq ${options} update
         apt-get -qq ${options} source --download-only crun
         dpkg-source -x crun_*.dsc crun >/dev/null
         cd crun && touch config.h && gcc -static -I. -o tests/init tests/init.c`,
      ],
      { cwd: download, stdio: 'pipe' },
    );
    rmSync(CACHE, { recursive: true, force: true });
    mkdirSync(CACHE);
    renameSync(join(download, 'crun'), SOURCE); // whole or not at all: the lists (~50 MB) go
  } catch (error) {
    if (existsSync(INIT)) return SOURCE; // another test file was at it too
    throw new Error(`fetching crun's source failed (network? deb.debian.org): ${(error as { stderr?: Buffer }).stderr ?? error}`);
  } finally {
    rmSync(download, { recursive: true, force: true });
  }
  return SOURCE;
}

/** tests/test_*.py's names (test_exec, ...), in the suite's order. */
export function suiteFiles(): string[] {
  return readdirSync(join(crunSuiteSource(), 'tests'))
    .filter((name) => /^test_.*\.py$/.test(name))
    .map((name) => name.slice(0, -3))
    .sort();
}

// Runs in the sandbox (bash, PID 1 of its own PID namespace). For each file: the names it
// plans (its all_tests, imported: the TAP names only the tests that ran), then the file,
// its stdout and stderr together on the terminal (a failure's why comes before its "not ok").
const SANDBOX = String.raw`
set -e
hostname crun-suite
ip link set lo up
mount -t tmpfs -o mode=755 crun-suite-run /run
# The suite writes to /tmp and leaves it there: a tmpfs of its own. What lives under the
# machine's /tmp (an adapter, or the whole checkout: CI may clone there) is reached
# through /run/host-tmp.
mkdir /run/host-tmp && mount --rbind /tmp /run/host-tmp
mount -t tmpfs -o mode=1777 crun-suite-tmp /tmp
host() { case $1 in /tmp/*) echo "/run/host-tmp/${'$'}{1#/tmp/}" ;; *) echo "$1" ;; esac; }
OCI_RUNTIME=$(host "$OCI_RUNTIME") SUITE=$(host "$SUITE") PYTHONPATH=$(host "$PYTHONPATH")
# The runtime through a wrapper that notes the containers' names: their cgroups are the
# machine's, and only this run's are removed afterwards (another run may be going on).
# (So the suite's messages name /run/runtime as the runtime.)
export REAL_RUNTIME=$OCI_RUNTIME OCI_RUNTIME=/run/runtime
printf '#!/bin/sh\nfor a; do case $a in test-tmp*|container-*) echo "$a" >>/run/ids ;; esac; done\nexec "$REAL_RUNTIME" "$@"\n' >/run/runtime
chmod 755 /run/runtime
if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi
mkdir /tmp/crun && cp -a "$SUITE/tests" /tmp/crun/ && cd /tmp/crun
export INIT=/tmp/crun/tests/init
set +e
for file in $FILES; do
  # test_simple_delete puts the container in a v1 freezer cgroup "frozen", FROZEN, then
  # deletes it: the process stays frozen (D state), the file hangs until its timeout, and
  # the cgroups stay behind. Only its other test runs.
  if [ "$file" = test_delete ]; then export RUN_TESTS=test_multiple_containers_delete; else unset RUN_TESTS; fi
  rm -rf .testsuite-run-*  # a file killed at its timeout leaves its own
  echo "$PID_BASE" >/proc/sys/kernel/ns_last_pid
  start=$(date +%s%N)
  echo "### planned $file $("$PYTHON" -c 'import json, os, sys; sys.path[:0] = ["tests"]; m = __import__(sys.argv[1]); keep = os.getenv("RUN_TESTS"); print(json.dumps([t for t in m.all_tests if keep is None or t in keep.split()]))' "$file" 2>/dev/null)"
  left=$(( BUDGET - SECONDS )); [ "$left" -lt "$FILE_TIMEOUT" ] || left=$FILE_TIMEOUT
  if [ "$left" -le 0 ]; then echo "(the run's time, $BUDGET s, was up)"; echo "### ended $file 124 0"; continue; fi
  timeout -k 5 "$left" script -qfec "$PYTHON tests/$file.py 2>&1" /dev/null
  echo "### ended $file $? $(( ($(date +%s%N) - start) / 1000000 )) $(sort -u /run/ids 2>/dev/null | tr '\n' ' ')"
done
`;

interface Options {
  files?: string[]; // some of suiteFiles() only
  budgetS?: number; // the whole run's time (a file then gets what is left); scaled by TIME_SCALE
  runId?: string; // RUN_MARKER's value: the machine check finds any process we leave
}

// Runs at once (test/oci/crun-suite.test.ts: crun's and ours) must not share a pid, as
// test run-twice names its container container-<its pid>: each starts its pids elsewhere,
// at 20000, 30000, ... (5 digits, for exec_write_pid_file), from a place of this process's.
let runs = Math.floor(Math.random() * 7);

/** Run the suite against `runtime` (an absolute path); resolves once its cgroups are gone. */
export async function runCrunSuite(runtime: string, { files = suiteFiles(), budgetS = Infinity, runId }: Options = {}): Promise<SuiteRun> {
  const source = crunSuiteSource();
  const run = runs++;
  // Where a runtime of the course puts its cgroups (when it honours CGROUP_PARENT), removed after.
  const cgroupParent = `${DEFAULT_CGROUP_PARENT}/crun-suite-${process.pid}-${run}`;
  const env = {
    ...process.env,
    SUITE: source,
    FILES: files.join(' '),
    FILE_TIMEOUT: `${FILE_TIMEOUT_S}`,
    BUDGET: `${Math.floor(Math.min(budgetS * TIME_SCALE, files.length * FILE_TIMEOUT_S))}`,
    PID_BASE: `${19_999 + (run % 7) * 10_000}`,
    PYTHON,
    OCI_RUNTIME: runtime,
    PYTHONPATH: join(REPO, 'test/fixtures'), // libmount.py
    PYTHONDONTWRITEBYTECODE: '1', // no __pycache__ in test/fixtures
    CGROUP_PARENT: cgroupParent,
    ...(runId ? { [RUN_MARKER]: runId } : {}),
  };
  const namespaces = ['--uts', '--mount', '--pid', '--ipc', '--net', '--fork', '--kill-child', '--mount-proc', '--propagation', 'private'];
  const before = cgroupDirs('frozen');
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    const sandbox = spawn('unshare', [...namespaces, 'bash', '-c', SANDBOX], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: (files.length * (FILE_TIMEOUT_S + 10) + 30) * 1000,
      killSignal: 'SIGKILL',
    });
    let out = '';
    let err = '';
    sandbox.stdout.on('data', (chunk) => (out += chunk));
    sandbox.stderr.on('data', (chunk) => (err += chunk));
    sandbox.on('error', reject);
    sandbox.on('close', (status, signal) => resolve({ stdout: out, stderr: status === null ? `${err}\n(killed: ${signal})` : err }));
  });
  const parsed = parseOutput(stdout);
  const made = (dirs: string[]) => dirs.filter((dir) => !before.includes(dir));
  const leftovers = await removeCgroups([
    ...parsed.containers.flatMap(cgroupDirs),
    ...made(cgroupDirs('frozen')),
    ...cgroupDirs(cgroupParent),
  ]);
  // DEFAULT_CGROUP_PARENT itself, where empty, as a runtime does (and the other harnesses).
  // Not only "if this run made it": with crun's run and ours at once, the one that made it
  // may end first, find the other's cgroups in it, and leave it to one that thinks it is not its own.
  for (const dir of cgroupDirs(DEFAULT_CGROUP_PARENT)) {
    try {
      rmdirSync(dir);
    } catch {
      // in use: another run's, or another sandbox's, which removes it in its turn
    }
  }
  return { runtime, ...parsed, leftovers, stderr };
}

// "ok 3 - name", "ok 3 - name #SKIP" (77), "not ok 3 - name": anywhere on the line, as a
// failing test's stderr may have left no newline ("...instead of 0:0not ok 2 - mount-idmapped-mounts").
const TAP_RESULT = /^(.*?)(not ok|ok) (\d+) - (\S+?)( #SKIP)?$/;

/** The sandbox's output: each file's planned names, its TAP lines, and what came between. */
function parseOutput(stdout: string): Omit<SuiteRun, 'runtime' | 'stderr' | 'leftovers'> {
  const tests: TestResult[] = [];
  const seconds: Record<string, number> = {};
  const timedOut: string[] = [];
  let containers: string[] = [];
  let file = '';
  let planned: string[] = [];
  let seen = 0; // results of this file so far: the next must be number seen + 1
  let said: string[] = []; // lines since the last result
  for (const line of stdout.replaceAll('\r', '').split('\n')) {
    const marker = /^### (planned|ended) (\S+) ?(.*)$/.exec(line);
    const tap = TAP_RESULT.exec(line);
    if (marker?.[1] === 'planned') {
      [file, planned, seen, said] = [marker[2]!, JSON.parse(marker[3] || '[]') as string[], 0, []];
    } else if (marker?.[1] === 'ended') {
      const [status, ms, ...names] = marker[3]!.trim().split(' ');
      seconds[file] = Number(ms) / 1000;
      containers = names.length ? names : containers; // all so far, each time
      const killed = status === '124' || status === '137'; // timeout(1): TERM, then KILL
      if (killed) timedOut.push(file);
      const ran = new Set(tests.filter((test) => test.file === file).map((test) => test.name));
      const detail = [...said, ...(killed ? [`(${file} was stopped: its time ran out)`] : [])].join('\n');
      for (const name of planned.filter((name) => !ran.has(name))) tests.push({ file, name, result: 'not run', detail });
    } else if (tap && Number(tap[3]) === seen + 1) {
      seen++;
      if (tap[1]) said.push(tap[1]);
      const result: Result = tap[5] ? 'skip' : tap[2] === 'ok' ? 'ok' : 'not ok';
      tests.push({ file, name: tap[4]!, result, detail: result === 'not ok' ? said.join('\n') : '' });
      said = [];
    } else if (line && !/^1\.\.\d+$/.test(line)) {
      said = [...said, line].slice(-20); // the last 20 lines are enough to say why
    }
  }
  return { tests, seconds, timedOut, containers };
}

/** The directory `path` in every cgroup tree that has it. */
function cgroupDirs(path: string): string[] {
  return readMounts()
    .filter(({ type }) => type === 'cgroup' || type === 'cgroup2')
    .map(({ mountPoint }) => join(mountPoint, path))
    .filter((dir) => existsSync(dir));
}

async function waitForCgroups(done: () => boolean): Promise<boolean> {
  const deadline = Date.now() + 10_000 * TIME_SCALE;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

/**
 * Removes cgroup directories and all below them, deepest first, thawed first (a frozen
 * process cannot die). The kernel ends a dead PID namespace's processes in its own time:
 * a cgroup goes once empty. Returns those left (busy, 10 s later).
 */
async function removeCgroups(dirs: string[]): Promise<string[]> {
  const all = dirs.flatMap(subtree).sort((a, b) => b.length - a.length);
  for (const dir of all) {
    for (const [file, thawed] of [
      ['freezer.state', 'THAWED'],
      ['cgroup.freeze', '0'],
    ]) {
      try {
        writeFileSync(join(dir, file!), thawed!);
      } catch {
        // not this version's file
      }
    }
  }
  let left = all;
  await waitForCgroups(() => {
    left = left.filter((dir) => {
      try {
        rmdirSync(dir);
        return false;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code !== 'ENOENT'; // EBUSY: processes still in it
      }
    });
    return left.length === 0;
  });
  return left;
}

function subtree(dir: string): string[] {
  try {
    const children = readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory());
    return [dir, ...children.flatMap((child) => subtree(join(dir, child.name)))];
  } catch {
    return [];
  }
}

/** Per file: passed, failed (with not run), skipped; for a table of runs side by side. */
export function countByFile(run: SuiteRun): Map<string, { pass: number; fail: number; skip: number }> {
  const counts = new Map<string, { pass: number; fail: number; skip: number }>();
  for (const { file, result } of run.tests) {
    const count = counts.get(file) ?? { pass: 0, fail: 0, skip: 0 };
    if (result === 'ok') count.pass++;
    else if (result === 'skip') count.skip++;
    else count.fail++;
    counts.set(file, count);
  }
  return counts;
}

/** The table: a row per file, for each run "pass fail skip seconds"; a total row. */
export function formatTable(runs: { label: string; run: SuiteRun }[]): string {
  const counted = runs.map(({ run }) => countByFile(run));
  const files = [...new Set(runs.flatMap(({ run }) => Object.keys(run.seconds)))];
  const cell = (count = { pass: 0, fail: 0, skip: 0 }, seconds = 0) =>
    `${count.pass}`.padStart(4) + `${count.fail}`.padStart(5) + `${count.skip}`.padStart(5) + `${seconds.toFixed(1)}s`.padStart(8);
  const head = `${'file'.padEnd(24)}${runs.map(({ label }) => `| ${label.slice(0, 21).padEnd(22)}`).join('')}`;
  const sub = `${''.padEnd(24)}${runs.map(() => `|${'pass'.padStart(5)}${'fail'.padStart(5)}${'skip'.padStart(5)}${'time'.padStart(8)} `).join('')}`;
  const rows = files.map(
    (file) => `${file.padEnd(24)}${runs.map(({ run }, i) => `| ${cell(counted[i]!.get(file), run.seconds[file])} `).join('')}`,
  );
  const total = runs.map(({ run }, i) => {
    const sum = { pass: 0, fail: 0, skip: 0 };
    for (const count of counted[i]!.values()) for (const key of ['pass', 'fail', 'skip'] as const) sum[key] += count[key];
    return `| ${cell(
      sum,
      Object.values(run.seconds).reduce((a, b) => a + b, 0),
    )} `;
  });
  const notes = runs.flatMap(({ label, run }) => (run.timedOut.length ? [`${label}: ${run.timedOut.join(', ')} ran out of time`] : []));
  return [head, sub, ...rows, `${'TOTAL'.padEnd(24)}${total.join('')}`, ...notes].join('\n');
}
