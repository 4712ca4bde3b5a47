// Step 15's runtime called by hand, as a learner does from its page (no engine): a bundle
// made with `spec`, the verbs, the limits in the container's own cgroup (v1 here, v2 alone
// in `npm run test:vm`), and bad input: one line, runc's status, nothing left behind.
import { describe, expect, inject, it } from 'vitest';
import { value } from '../harness/outcome.ts';
import { inSandbox, type Outcome } from '../harness/sandbox.ts';

const STEP = '15-oci';

// Bash: `bundle <dir> <json edits>` writes a bundle: `spec`'s config.json, the sandbox's
// busybox root filesystem, no terminal, its cgroup under the sandbox's, then the edits
// (a JavaScript function of the config, run by node). `rt` is the runtime.
const HELPERS = String.raw`
rt() { "$REPO/steps/15-oci/runtime" "$@"; }
# said <cmd...>: what it said on stderr and stdout, on one line, then its status
said() { "$@" 2>&1 | tr '\n' ' '; echo "${'$'}{PIPESTATUS[0]}"; }
export -f rt
bundle() {
  mkdir -p "$1" && rt spec --bundle "$1" && node -e '
    const fs = require("fs"), [file, rootfs, cgroup, edit] = process.argv.slice(1);
    const c = JSON.parse(fs.readFileSync(file, "utf8"));
    c.root = { path: rootfs, readonly: false };
    c.process.terminal = false;
    c.linux.cgroupsPath = cgroup;
    (eval(edit))(c);
    fs.writeFileSync(file, JSON.stringify(c));' "$1/config.json" "$CONTAINERFS" "/$CGROUP_PARENT/$(basename "$1")" "$2"
}
cgroup_dirs() { ls -d /sys/fs/cgroup/*/"$CGROUP_PARENT/$1" /sys/fs/cgroup/"$CGROUP_PARENT/$1" 2>/dev/null | wc -l; }
`;

const sandbox = (script: string, timeoutMs = 30_000): Promise<Outcome> =>
  inSandbox(HELPERS + script, { step: STEP, timeoutMs, ...inject('sandbox') });

describe.concurrent(`step ${STEP}: the runtime by hand`, () => {
  it('create, state, start, kill, delete: the statuses as runc gives them, and nothing left', async () => {
    const outcome = await sandbox(String.raw`
      bundle "$SANDBOX_DIR/b" '(c) => { c.process.args = ["sleep", "100"]; }'
      cd "$SANDBOX_DIR/b"
      rt create demo; echo "create=$?"
      echo "created=$(rt state demo | grep -o '"status": "[a-z]*"')"
      echo "again=$(said rt create demo)"
      rt start demo; echo "started=$(rt state demo | grep -o '"status": "[a-z]*"')"
      echo "start_again=$(said rt start demo)"
      rt kill demo KILL
      wait_until "the container to stop" bash -c 'rt state demo | grep -q stopped'
      echo "stopped=$(rt state demo | grep -o '"status": "[a-z]*"')"
      rt delete demo; echo "delete=$? cgroups=$(cgroup_dirs b) state=$(rt list -q | wc -l)"
      echo "unknown=$(said rt state demo)"
      echo "forced=$(said rt delete -f demo)"
      # asked while create is still at work: not there yet, then "created" (crun's suite starts it then)
      bundle "$SANDBOX_DIR/e" '(c) => { c.process.args = ["sleep", "100"]; }'
      (cd "$SANDBOX_DIR/e" && rt create early) & creating=$!
      first=
      while [ -z "$first" ] && kill -0 $creating 2>/dev/null; do first=$(rt state early 2>/dev/null | grep -o '"status": "[a-z]*"'); done
      wait $creating; echo "early=$? first=${'$'}{first:-$(rt state early | grep -o '"status": "[a-z]*"')}"
      rt delete -f early; echo "early_left=$(cgroup_dirs e)"`);
    expect(value(outcome, 'create'), outcome.stderr).toBe('0');
    expect(value(outcome, 'created')).toBe('"status": "created"');
    expect(value(outcome, 'again')).toBe('container with id demo already exists 1');
    expect(value(outcome, 'started')).toBe('"status": "running"');
    expect(value(outcome, 'start_again')).toBe('cannot start a container that is running 1');
    expect(value(outcome, 'stopped')).toBe('"status": "stopped"');
    expect(value(outcome, 'delete')).toBe('0 cgroups=0 state=0');
    expect(value(outcome, 'unknown')).toBe('container demo does not exist 1'); // containerd's shim looks for "does not exist"
    expect(value(outcome, 'forced')).toBe('0'); // and nothing said: as runc
    expect(value(outcome, 'early')).toBe('0 first="status": "created"');
    expect(value(outcome, 'early_left')).toBe('0');
  });

  it('run: the exit status, 128+N for a signal; stdout and stderr apart; bad input in one line', async () => {
    const outcome = await sandbox(String.raw`
      bundle "$SANDBOX_DIR/b" '(c) => { c.process.args = ["sh", "-c", "echo out; echo err >&2; exit 7"]; }'
      cd "$SANDBOX_DIR/b"
      rt run r1 >"$SANDBOX_DIR/out" 2>"$SANDBOX_DIR/err"; echo "status=$?"
      echo "out=$(cat "$SANDBOX_DIR/out") err=$(cat "$SANDBOX_DIR/err")"
      # PID 1 of a PID namespace ignores the signals it has no handler for, but SIGKILL
      bundle "$SANDBOX_DIR/k" '(c) => { c.process.args = ["sleep", "100"]; }'
      (cd "$SANDBOX_DIR/k" && rt run r2) & running=$!
      wait_until "the container to run" bash -c 'rt state r2 2>/dev/null | grep -q running'
      rt kill r2 KILL; wait $running; echo "signal=$?"
      bundle "$SANDBOX_DIR/n" '(c) => { c.process.args = ["no-such-program"]; }'
      echo "missing=$(cd "$SANDBOX_DIR/n" && said rt run r3)"
      bundle "$SANDBOX_DIR/s" '(c) => { c.process.args = "sh"; }'
      echo "schema=$(cd "$SANDBOX_DIR/s" && said rt run r4)"
      echo "usage=$(said rt frobnicate)"
      echo "pidfile=$(cd "$SANDBOX_DIR/b" && said rt create --pid-file /nonexistent/dir/pid r5)"
      echo "left=$(rt list -q | wc -l) cgroups=$(( $(cgroup_dirs b) + $(cgroup_dirs k) + $(cgroup_dirs n) + $(cgroup_dirs s) ))"`);
    expect(value(outcome, 'status'), outcome.stderr).toBe('7');
    expect(value(outcome, 'out')).toBe('out err=err');
    expect(value(outcome, 'signal')).toBe('137');
    expect(value(outcome, 'missing')).toBe('exec: "no-such-program": executable file not found in $PATH 1');
    expect(value(outcome, 'schema')).toBe('config.json: /process/args: must be array 1');
    expect(value(outcome, 'usage')).toMatch(/^unknown command frobnicate: one of create, start, run, .* 2$/);
    // a failure after the container's process started: one line, and it and its cgroup gone
    expect(value(outcome, 'pidfile')).toBe("ENOENT: no such file or directory, open '/nonexistent/dir/pid' 1");
    expect(value(outcome, 'left')).toBe('0 cgroups=0');
  });
});

// seccomp notify: an engine's agent (test/fixtures/seccomp-agent.py) at listenerPath gets
// the filter's listener with the process state, and answers for the kernel.
describe.concurrent(`step ${STEP}: seccomp notify`, () => {
  it('the agent gets the listener and the state; mkdir, notified, fails as the agent says', async () => {
    const outcome = await sandbox(String.raw`
      : >"$SANDBOX_DIR/agent.out"
      python3 -u "$REPO/test/fixtures/seccomp-agent.py" "$SANDBOX_DIR/agent.sock" 30 >>"$SANDBOX_DIR/agent.out" & agent=$!
      wait_until "the agent to listen" grep -q listening "$SANDBOX_DIR/agent.out"
      bundle "$SANDBOX_DIR/n" '(c) => {
        c.process.args = ["sh", "-c", "mkdir /made; echo mkdir=$?; [ -d /made ] || echo absent=yes"];
        c.linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW", listenerPath: "'"$SANDBOX_DIR"'/agent.sock",
          listenerMetadata: "course", syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY" }] };
      }'
      (cd "$SANDBOX_DIR/n" && rt run notified 2>&1); echo "status=$?"
      wait $agent; echo "agent=$?"; cat "$SANDBOX_DIR/agent.out"
      # no agent listening there any more: one line, and nothing left
      echo "gone=$(cd "$SANDBOX_DIR/n" && said rt run again) left=$(rt list -q | wc -l) cgroups=$(cgroup_dirs n)"`);
    expect(value(outcome, 'status'), outcome.stderr).toBe('0');
    expect(outcome.stdout).toContain("mkdir: can't create directory '/made': Read-only file system"); // errno 30, the agent's
    expect(value(outcome, 'mkdir')).toBe('1');
    expect(value(outcome, 'absent')).toBe('yes');
    expect(value(outcome, 'agent')).toBe('0'); // it saw the listener hang up: no process left under the filter
    expect(Number(value(outcome, 'asked'))).toBeGreaterThan(0); // mkdir's number (or mkdirat's)
    const state = JSON.parse(value(outcome, 'state') ?? '{}');
    expect(state).toMatchObject({ ociVersion: '0.2.0', fds: ['seccompFd'], metadata: 'course' });
    expect(state.state).toMatchObject({ id: 'notified', status: 'creating', pid: state.pid });
    expect(state.pid).toBeGreaterThan(1); // as the host sees it
    expect(value(outcome, 'gone')).toMatch(/^connect \S+\/agent\.sock: \w+ \(.*\) 1 left=0 cgroups=0$/);
  });
});

// The limits, in the container's own cgroup: what it sees of them there, and what the kernel does.
describe.concurrent(`step ${STEP}: cgroups`, () => {
  it('memory and pids: written in its cgroup, seen inside, enforced; the cgroup gone after', async () => {
    const outcome = await sandbox(
      String.raw`
      limits='c.linux.resources = { memory: { limit: 33554432, swap: 33554432 }, pids: { limit: 5 } };'
      bundle "$SANDBOX_DIR/a" "(c) => { $limits c.process.args = ['sh', '-c', 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max']; }"
      echo "seen=$(cd "$SANDBOX_DIR/a" && rt run a | tr '\n' ' ')"
      bundle "$SANDBOX_DIR/m" "(c) => { $limits c.process.args = ['sh', '-c', 'x=a; while :; do x=\$x\$x; done']; }"
      (cd "$SANDBOX_DIR/m" && rt run m); echo "memory=$?"
      bundle "$SANDBOX_DIR/p" "(c) => { $limits c.process.args = ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do sleep 10 & done; wait']; }"
      (cd "$SANDBOX_DIR/p" && timeout 60 "$REPO/steps/15-oci/runtime" run p) 2>"$SANDBOX_DIR/err"; echo "forks_refused=$(grep -c "can't fork" "$SANDBOX_DIR/err")"
      echo "cgroups=$(( $(cgroup_dirs a) + $(cgroup_dirs m) + $(cgroup_dirs p) ))"`,
      60_000,
    );
    expect(value(outcome, 'seen'), outcome.stderr).toBe('33554432 5 ');
    expect(value(outcome, 'memory')).toBe('137');
    expect(Number(value(outcome, 'forks_refused'))).toBeGreaterThan(0);
    expect(value(outcome, 'cgroups')).toBe('0');
  });
});
