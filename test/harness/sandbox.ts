// A throwaway "host" for every test: its own UTS, mount, PID, IPC and network
// namespaces (made by unshare(1)), its own hostname, and its own copy of the root
// filesystem on a tmpfs.
// Whatever a step leaks (a hostname, a proc mount, a process) leaks into the sandbox
// and disappears with it; the real machine never sees it.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeLeftoverCgroups } from '../../shared/cgroup/lifecycle.ts';
import { DEFAULT_CGROUP_PARENT as CGROUP_PARENT } from '../../shared/runtime/config.ts';

export const REPO = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
export const SANDBOX_HOSTNAME = 'sandbox-host';

export interface Outcome {
  stdout: string;
  stderr: string;
  status: number | null;
}

// Runs first in every sandbox. `run` runs the step under test as a learner would.
const PRELUDE = String.raw`
set -e
hostname ${SANDBOX_HOSTNAME}
# Like a systemd host: mounts are shared (propagate to peers), unless made private.
mount --make-rshared /
mount -t tmpfs -o mode=755 sandbox "$SANDBOX_DIR"
# A /run of its own, as a new machine has: the runtime's locks of ID ranges live there.
mount -t tmpfs -o mode=755 sandbox-run /run
# Its loopback up, as on any host: 127.0.0.1 answers, or refuses, at once.
ip link set lo up
mkdir "$SANDBOX_DIR/rootfs" "$SANDBOX_DIR/state"
cp -a "$BASE_ROOTFS/." "$SANDBOX_DIR/rootfs/"
# The root filesystem, and the images and writable layers of step 10 (beside it: an
# overlay's writable layer cannot be inside its image).
export CONTAINERFS="$SANDBOX_DIR/rootfs" CONTAINER_STATE="$SANDBOX_DIR/state"
cd "$REPO"
source test/harness/wait.sh # wait_until and its conditions: waits on state, scaled by the time factor
run() { node "$REPO/steps/$STEP/main.ts" -- run "$@"; }
# as_normal_user <cmd...>: as nobody, in a view of the project it may reach (a checkout
# under /root, mode 0700, it may not), the project's Node first on its PATH.
as_normal_user() {
  local view="$SANDBOX_DIR/project"
  [ -d "$view/steps" ] || { mkdir -p "$view" && mount --bind "$REPO" "$view"; } || return 1
  (cd "$view" && setpriv --reuid=65534 --regid=65534 --clear-groups env PATH="${'$'}{PATH//"$REPO"/"$view"}" "$@")
}
set +e
`;

export interface SandboxOptions {
  step: string; // "05-chroot-proc"
  baseRootfs: string; // a built root filesystem, copied for this sandbox
  runId: string; // marks every process of this test run (see RUN_MARKER)
  timeoutMs?: number;
}

/**
 * Every process of this test run carries this in its environment, so the check that
 * the machine is unchanged can find ours (and only ours) if any outlive the run.
 */
export const RUN_MARKER = 'CFS_TEST_RUN';

/**
 * Every time limit of the tests is multiplied by this: CFS_TEST_TIME_SCALE=4 where the
 * machine is that much slower than the one they were written on (npm run test:vm, under
 * QEMU's emulation).
 */
export const TIME_SCALE = Number(process.env.CFS_TEST_TIME_SCALE) || 1;

/** Run a bash script in a fresh sandbox host; resolves when the sandbox is gone. */
export function inSandbox(script: string, { step, baseRootfs, runId, timeoutMs: ms = 30_000 }: SandboxOptions): Promise<Outcome> {
  const timeoutMs = ms * TIME_SCALE;
  const sandboxDir = mkdtempSync(join(tmpdir(), 'cfs-sandbox-'));
  const cgroupParent = `${CGROUP_PARENT}/${basename(sandboxDir)}`;
  const env = {
    ...process.env,
    PATH: `${dirname(process.execPath)}:${process.env.PATH}`, // the same node as the tests
    NODE_COMPILE_CACHE: join(REPO, 'node_modules/.cache/node-compile-cache'),
    SANDBOX_DIR: sandboxDir,
    BASE_ROOTFS: baseRootfs,
    REPO,
    STEP: step,
    [RUN_MARKER]: runId,
    CFS_TEST_TIME_SCALE: `${TIME_SCALE}`, // for the scripts' own waits
    CGROUP_PARENT: cgroupParent, // steps 09+: this sandbox's containers' cgroups
  };
  // --fork: bash becomes PID 1 of the sandbox, so when it ends the kernel kills
  // everything left in the sandbox. Mount propagation is private: nothing mounted
  // inside reaches the real machine.
  // --kill-child: if the sandbox's unshare(1) is killed (a test's timeout), bash goes too.
  const namespaces = ['--uts', '--mount', '--pid', '--ipc', '--net', '--fork', '--kill-child', '--mount-proc', '--propagation', 'private'];
  const args = [...namespaces, 'bash', '-c', PRELUDE + script];
  return new Promise((resolve, reject) => {
    const sandbox = spawn('unshare', args, { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    sandbox.stdout.on('data', (chunk) => (stdout += chunk));
    sandbox.stderr.on('data', (chunk) => (stderr += chunk));
    sandbox.on('error', reject);
    sandbox.on('close', async (status, signal) => {
      // Said where a failing test shows it: a test that ran out of time.
      if (status === null) stderr += `\n(the sandbox was killed with ${signal}: its time, ${timeoutMs} ms, ran out)\n`;
      rmdirSync(sandboxDir); // empty: its contents lived on the sandbox's tmpfs
      await removeCgroupsOf(cgroupParent);
      resolve({ stdout, stderr, status });
    });
  });
}

/**
 * cgroups are the machine's, not the sandbox's: those of runtimes the sandbox's end
 * killed (SIGKILL) are still there. The tests check the runtime's own cleanup; this
 * one is the harness's. The kernel kills the processes of a PID namespace in its own
 * time, so a cgroup may still hold some for a moment: wait until it is empty.
 */
async function removeCgroupsOf(parent: string): Promise<void> {
  const dirs = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .filter(([, , type]) => type === 'cgroup' || type === 'cgroup2')
    .map(([, mountPoint]) => `${mountPoint}/${parent}`);
  const deadline = Date.now() + 10_000 * TIME_SCALE;
  for (;;) {
    removeLeftoverCgroups(parent);
    if (!dirs.some((dir) => existsSync(dir)) || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
