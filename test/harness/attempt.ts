// The harness of test/bad-input.test.ts: try one command in a sandbox, then judge it
// as docker run would be judged: its own status, stdout and stderr, and what it left.
import { readFileSync, rmdirSync } from 'node:fs';
import { expect, inject } from 'vitest';
import { DEFAULT_CGROUP_PARENT as CGROUP_PARENT } from '../../shared/runtime/config.ts';
import { NO_STACK_TRACE, runtimeLines } from './outcome.ts';
import { inSandbox } from './sandbox.ts';

// Bash for the sandbox: `leftovers`, `readonly_root` and `jail`.
const HELPERS = String.raw`
export npm_config_logs_max=0 # npm writes no log file on the machine
# What a run may leave: container cgroups under this sandbox's CGROUP_PARENT (in any
# tree), writable layers, mounts under $CONTAINERFS. One line, empty when nothing is left.
leftovers() {
  {
    find /sys/fs/cgroup/$CGROUP_PARENT /sys/fs/cgroup/*/$CGROUP_PARENT -mindepth 1 -type d 2>/dev/null | sed 's/^/cgroup:/'
    find "$CONTAINER_STATE/containers" -mindepth 1 -maxdepth 1 2>/dev/null | sed 's/^/layer:/'
    awk -v d="$CONTAINERFS/" 'index($5, d) == 1 { print "mount:" $5 }' /proc/self/mountinfo
  } | tr '\n' ' '
}
# The sandbox's / read-only: a runtime told CONTAINERFS=/ must not write the machine's
# files, and if it tries, this stops it (the flag is this mount namespace's alone).
readonly_root() {
  mount -o remount,bind,ro / || return 1
  ! touch /.cfs-bad-input-probe 2>/dev/null
}
# The cgroup trees as this sandbox sees them: each one is its own subtree
# <tree>/$CGROUP_PARENT/jail, bound where the tree was (cgroupfs is the machine's: this
# way a runtime or npm run clean that takes "." for the tree's root only reaches the jail).
jail() {
  local trees t i=0 level=''
  trees=$(sed -n 's/^\([^ ]* \)\{4\}\([^ ]*\) .* - cgroup2\{0,1\} .*/\2/p' /proc/self/mountinfo)
  [ -n "$trees" ] && mkdir "$SANDBOX_DIR/cg" || return 1
  for t in $trees; do
    mkdir -p "$t/$CGROUP_PARENT/jail" "$SANDBOX_DIR/cg/$i" || return 1
    # cgroup v2: a controller reaches the jail only through each parent's subtree_control
    if [ -f "$t/cgroup.subtree_control" ]; then
      level=$t; for part in $(echo "$CGROUP_PARENT" | tr / ' '); do
        level=$level/$part; echo '+memory +pids +cpu' >"$level/cgroup.subtree_control" 2>/dev/null
      done
    fi
    mount --bind "$t/$CGROUP_PARENT/jail" "$SANDBOX_DIR/cg/$i" || return 1
    i=$((i + 1))
  done
  umount -l /sys/fs/cgroup || return 1
  [ "$trees" = /sys/fs/cgroup ] || mount -t tmpfs cgjail /sys/fs/cgroup || return 1
  i=0
  for t in $trees; do
    mkdir -p "$t" && mount --bind "$SANDBOX_DIR/cg/$i" "$t" && umount "$SANDBOX_DIR/cg/$i" || return 1
    i=$((i + 1))
  done
  # every cgroup tree in sight is a jail
  ! sed -n 's/^\([^ ]* \)\{3\}\([^ ]*\) .* - cgroup2\{0,1\} .*/\2/p' /proc/self/mountinfo | grep -qv '/jail$'
}
`;

export interface Attempt {
  status: number | null; // the command's; null when the sandbox ran out of time
  stdout: string; // the command's
  stderr: string; // the command's (and the setup's, which stays quiet)
  marks: Record<string, string>; // "@@key=value" lines printed after it: left=, ...
}

/**
 * Run `command` (bash) in a sandbox of `step`, after `setup`; then `after` may print
 * "@@key=value" lines. The command's stdout and stderr are its own.
 */
export async function attempt(
  step: string,
  command: string,
  { setup = '', after = '', timeoutMs = 30_000, jailed = false } = {},
): Promise<Attempt> {
  const script = `${HELPERS}\n${setup}\n${command}\nstatus=$?\nprintf '\\n@@MARK\\n@@status=%s\\n' "$status"\necho "@@left=$(leftovers)"\n${after}\n`;
  const outcome = await inSandbox(script, { step, timeoutMs, ...inject('sandbox') });
  // The sandbox removes its $CGROUP_PARENT (the jails in it); the jail made its parent,
  // container-from-scratch, in every tree: remove it where empty, as a runtime does.
  if (jailed) removeEmptyCgroupTops();
  const at = outcome.stdout.lastIndexOf('\n@@MARK\n');
  const tail = at === -1 ? '' : outcome.stdout.slice(at);
  const marks = Object.fromEntries([...tail.matchAll(/^@@(\S+?)=(.*)$/gm)].map(([, key, value]) => [key!, value!]));
  return {
    status: marks.status === undefined ? null : Number(marks.status),
    stdout: at === -1 ? outcome.stdout : outcome.stdout.slice(0, at),
    stderr: outcome.stderr,
    marks,
  };
}

function removeEmptyCgroupTops(): void {
  for (const [, mountPoint, type] of readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))) {
    if (type !== 'cgroup' && type !== 'cgroup2') continue;
    try {
      rmdirSync(`${mountPoint}/${CGROUP_PARENT}`);
    } catch {
      // in use (a container of another sandbox), or not there
    }
  }
}

/** Failed as docker run fails: `status`, one line on stderr matching `pattern`, no output, nothing left. */
export function expectRefused(result: Attempt, status: number, pattern: RegExp, { left = true } = {}): void {
  expect(result.stderr, result.stderr).not.toMatch(NO_STACK_TRACE);
  expect(result.status, result.stderr).toBe(status);
  expect(runtimeLines(result.stderr), result.stderr).toEqual([expect.stringMatching(pattern)]);
  expect(result.stdout).toBe('');
  if (left) expect(result.marks.left, 'left behind').toBe('');
}

/** Worked: status 0, `stdout`, no line of the runtime's own, nothing left (unless `left` is false: not checked). */
export function expectWorked(result: Attempt, stdout: string, { left = true } = {}): void {
  expect(result.stderr, result.stderr).not.toMatch(NO_STACK_TRACE);
  expect(result.status, result.stderr).toBe(0);
  expect(result.stdout, result.stderr).toBe(stdout);
  expect(runtimeLines(result.stderr), result.stderr).toEqual([]);
  if (left) expect(result.marks.left, 'left behind').toBe('');
}
