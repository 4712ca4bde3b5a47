// What test/oci/'s engine tests share: real container engines (podman, containerd) that
// drive an OCI runtime by its absolute path, as they drive runc; an image of our own,
// built offline; and sandboxes that keep everything the engines write away from the machine.
// The runtime judged: CFS_OCI_RUNTIME=/usr/bin/runc proves the tests themselves.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, inject } from 'vitest';
import { busyboxImage, CONTAINERS_CONF } from '../../scripts/lib/podman.ts';
import { readMounts } from '../../shared/kernel/mountinfo.ts';
import { DEFAULT_CGROUP_PARENT } from '../../shared/runtime/config.ts';
import { inSandbox, type Outcome, REPO } from './sandbox.ts';

export const RUNTIME = resolve(process.env.CFS_OCI_RUNTIME ?? join(REPO, 'steps/15-oci/runtime'));

let image = ''; // the image's tar, for this test file

/**
 * For a test file: before its tests, that the tools are there (a missing one fails every
 * test, naming its package: no skip) and the image; after them, the image removed, and
 * the engines' cgroups that a test left in the machine's trees (guardEngineCgroups).
 */
export function useEngines(tools: Tool[]): void {
  let restoreCgroups = () => {};
  beforeAll(() => {
    requireTools(tools);
    restoreCgroups = guardEngineCgroups();
    image = buildImage();
  });
  afterAll(() => {
    if (image) removeImage(image);
    restoreCgroups();
  });
}

/** Run `script` in a fresh sandbox host, after `prelude` (PODMAN or CONTAINERD). */
export async function engineSandbox(prelude: string, script: string, timeoutMs = 30_000): Promise<Outcome> {
  const outcome = await inSandbox(`RUNTIME='${RUNTIME}' IMAGE_TAR='${image}'\n${prelude}${script}`, {
    step: '15-oci',
    timeoutMs,
    ...inject('sandbox'),
  });
  // The sandbox removed its $CGROUP_PARENT; PRIVATE_PLACES made its parent,
  // container-from-scratch, in every tree: remove it where empty, as a runtime does.
  for (const { mountPoint, type } of readMounts()) {
    if (type !== 'cgroup' && type !== 'cgroup2') continue;
    try {
      rmdirSync(`${mountPoint}/${DEFAULT_CGROUP_PARENT}`);
    } catch {
      // in use (a container of another sandbox), or not there
    }
  }
  return outcome;
}

type Tool = 'podman' | 'conmon' | 'containerd' | 'ctr' | 'script';

/** Each engine's tools and the Debian package that has them; throws one line naming what to install (no skip). */
function requireTools(tools: Tool[]): void {
  const packages = { podman: 'podman', conmon: 'conmon', containerd: 'containerd', ctr: 'containerd', script: 'bsdutils' };
  for (const tool of tools) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} is missing: sudo apt-get install --no-install-recommends ${packages[tool]} (see .ci/run)`);
    }
  }
}

/** The image (scripts/lib/podman.ts's busyboxImage), in a folder of its own; removeImage() removes it. */
function buildImage(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cfs-engine-image-'));
  try {
    return busyboxImage(dir);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function removeImage(tar: string): void {
  rmSync(resolve(tar, '..'), { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------
// Bash for the sandbox (test/harness/sandbox.ts's inSandbox), after RUNTIME=... IMAGE_TAR=...
// Each engine writes in places of its own (--root, a config), and in a few global ones
// besides. The sandbox already has its own /run (containerd's /run/containerd/{s,fifo}
// go with it) and PID namespace (conmon, the shims and containers die with it). What
// is left, made the sandbox's own here:
//  - /dev/shm: podman's locks are a POSIX shared memory file, /dev/shm/libpod_lock, one
//    for every podman whatever its --root (an IPC namespace does not separate those);
//  - /var/lib: podman writes /var/lib/containers/cache/blob-info-cache-v1.boltdb, even
//    with a --root elsewhere: an overlay takes its writes, on the sandbox's tmpfs;
//  - TMPDIR: the temporary files of image copies, ctr's and the shim's;
//  - cgroups: --cgroup-parent (podman; its default libpod_parent, in every tree, would
//    outlive the test) and ctr's --cgroup (containerd's default: /default/<id>) put them
//    under this sandbox's $CGROUP_PARENT, which the harness removes after it.
const PRIVATE_PLACES = String.raw`
S=$SANDBOX_DIR
# Every cgroup tree, as mounted (hybrid: one per v1 controller and the v2 one); this
# sandbox's $CGROUP_PARENT made in each at once, so that no runtime of another test finds
# their common parent, container-from-scratch, empty and removes it under an engine at work.
TREES=$(awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts)
for t in $TREES; do until mkdir -p "$t/$CGROUP_PARENT"; do :; done; done
# cgroup v1's cpuset: a new cgroup has no CPU and no memory node (a process may not join
# it: ENOSPC) until given some; as podman does with the parents it makes, its parent's.
cpuset=$(awk '$3 == "cgroup" && $4 ~ /(^|,)cpuset(,|$)/ { print $2 }' /proc/self/mounts)
level=$cpuset
for part in ${'$'}{cpuset:+${'$'}{CGROUP_PARENT//\// }}; do
  level=$level/$part
  for f in cpuset.cpus cpuset.mems; do [ -n "$(cat "$level/$f")" ] || cat "${'$'}{level%/*}/$f" >"$level/$f"; done
done
mount -t tmpfs cfs-shm /dev/shm
mkdir -p "$S/var-lib/upper" "$S/var-lib/work" "$S/tmp"
mount -t overlay -o "lowerdir=/var/lib,upperdir=$S/var-lib/upper,workdir=$S/var-lib/work" cfs-var-lib /var/lib
export TMPDIR=$S/tmp
# What is left of a container's: its processes (in the sandbox's PID namespace: any but
# the script's own and containerd), and its cgroups. One line, empty when nothing is left.
leftovers() {
  ps -e -o comm= | grep -vxE 'bash|ps|grep|sort|tr|find|sed|containerd' | sed 's/^/process:/' | tr '\n' ' '
  # (podman's conmon cgroup, a sibling of the containers', is podman's: not the runtime's to remove)
  for t in $TREES; do find "$t/$CGROUP_PARENT" -mindepth 1 -type d ! -name conmon 2>/dev/null; done | sed 's/^/cgroup:/' | tr '\n' ' '
}
nothing_left() { [ -z "$(leftovers)" ]; }
`;

/**
 * podman with a storage of its own: `pm ARGS` (every command, --runtime ours), `prun
 * ARGS` (pm run, its cgroup under the sandbox's). $IMG: the image, imported.
 * CONTAINERS_CONF: the ulimits this machine needs (the hard RLIMIT_NOFILE here is 20000,
 * below podman's default, and we lack CAP_SYS_RESOURCE to raise it) and no network
 * (scripts/lib/podman.ts says more).
 */
export const PODMAN = `${PRIVATE_PLACES}
cat >"$S/containers.conf" <<'EOF'
${CONTAINERS_CONF}EOF
${String.raw`export CONTAINERS_CONF=$S/containers.conf
# conmon writes a file "oom" in its working directory when the container meets its
# memory limit: the sandbox's, not the project's
cd "$S" || exit 1
pm() {
  podman --root "$S/podman/root" --runroot "$S/podman/run" --tmpdir "$S/podman/tmp" \
    --cgroup-manager cgroupfs --events-backend file --runtime "$RUNTIME" "$@"
}
prun() { pm run --cgroup-parent "/$CGROUP_PARENT" "$@"; }
IMG=localhost/cfs-engine:latest
# for a command that script(1) runs on a terminal of its own, in a bash of its own
export -f pm prun && export S IMG RUNTIME SHELL=/bin/bash
pm import -q "$IMAGE_TAR" "$IMG" >/dev/null || { echo "podman import failed"; exit 1; }
`}`;

/**
 * containerd with a config, socket, root and state of its own, started here and stopped
 * when the script ends; the image from podman (save, then ctr images import).
 * `c ARGS`: ctr on its socket. `crun_ FLAGS ID CMD...`: ctr run with the runtime under
 * test, its root (--runc-root) in the sandbox, its cgroup under the sandbox's.
 * `task_status ID`: the task's status, as ctr task ls shows it.
 */
export const CONTAINERD = `${PODMAN}${String.raw`
mkdir -p "$S/ctd"
cat >"$S/ctd/config.toml" <<EOF
version = 2
root = "$S/ctd/root"
state = "$S/ctd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$S/ctd/containerd.sock"
[ttrpc]
  address = "$S/ctd/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
EOF
containerd --config "$S/ctd/config.toml" >"$S/ctd/log" 2>&1 &
containerd=$!
trap 'kill $containerd; wait $containerd' EXIT
c() { ctr --address "$S/ctd/containerd.sock" "$@"; }
crun_() {
  local flags=$1 id=$2
  shift 2
  # shellcheck disable=SC2086 # flags: words
  c run --runc-binary "$RUNTIME" --runc-root "$S/ctd/runc" --cgroup "/$CGROUP_PARENT/$id" $flags "$IMG" "$id" "$@"
}
task_status() { c task ls | awk -v id="$1" '$1 == id { print $3 }'; } # RUNNING, STOPPED...
export -f c crun_
pm save -q --format docker-archive -o "$S/image-docker.tar" "$IMG" || { echo "podman save failed"; exit 1; }
wait_until "containerd's socket" test -S "$S/ctd/containerd.sock" || { cat "$S/ctd/log"; exit 1; }
c images import "$S/image-docker.tar" >/dev/null || { echo "ctr images import failed"; exit 1; }
`}`;

// ---------------------------------------------------------------------------------
// A safety net, for the machine: an engine asked without our flags (a test being
// written, say) leaves podman's libpod_parent or containerd's default cgroups, in every
// tree. Those that were not there before and are empty now go.
const ENGINE_CGROUPS = ['libpod_parent', 'default'];

function engineCgroups(): string[] {
  return readMounts()
    .filter(({ type }) => type === 'cgroup' || type === 'cgroup2')
    .flatMap(({ mountPoint }) => ENGINE_CGROUPS.map((name) => `${mountPoint}/${name}`))
    .filter((dir) => existsSync(dir));
}

/** Call before the tests; the function it returns, after them. */
function guardEngineCgroups(): () => void {
  const before = new Set(engineCgroups());
  return () => {
    const removeEmpty = (dir: string): void => {
      try {
        for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) removeEmpty(join(dir, entry.name));
        rmdirSync(dir);
      } catch {
        // a process still in it (another engine's, at work): not ours to end; or gone already
      }
    };
    for (const dir of engineCgroups()) if (!before.has(dir)) removeEmpty(dir);
  };
}
