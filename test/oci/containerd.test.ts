// containerd drives our OCI runtime as it drives runc: `ctr run --runc-binary <absolute
// path>`, through its shim (containerd-shim-runc-v2), which calls create, start, exec,
// kill, delete. Each test: a sandbox host with a containerd of its own (config, socket,
// root and state: test/harness/engines.ts), the image imported from podman, then what a
// user of ctr does, and after it, nothing of the container left.
// Proven on runc first: CFS_OCI_RUNTIME=/usr/bin/runc npx vitest run --project system test/oci/containerd.test.ts
import { describe, expect, it } from 'vitest';
import { CONTAINERD, engineSandbox, RUNTIME, useEngines } from '../harness/engines.ts';
import { value } from '../harness/outcome.ts';
import type { Outcome } from '../harness/sandbox.ts';

useEngines(['podman', 'containerd', 'ctr', 'script']); // podman: the image comes from it

// After the test's own lines: no task, no container, none of their processes (the shim's
// included) or cgroups.
const AFTER = String.raw`
echo "tasks=$(c task ls -q | wc -l) containers=$(c containers ls -q | wc -l)"
wait_until "the containers' processes and cgroups to go" nothing_left; echo "left=$(leftovers)"`;

const containerd = (script: string): Promise<Outcome> => engineSandbox(CONTAINERD, script + AFTER);

function expectNothingLeft(outcome: Outcome): void {
  expect(value(outcome, 'tasks'), outcome.stderr).toBe('0 containers=0');
  expect(value(outcome, 'left'), outcome.stderr).toBe('');
}

describe.concurrent(`ctr run --runc-binary ${RUNTIME}`, () => {
  it("run --rm: the command's stdout, its exit status, stdout and stderr apart", async () => {
    const outcome = await containerd(String.raw`
      echo "echo=$(crun_ --rm c1 echo hi)"
      crun_ --rm c2 sh -c 'exit 7'; echo "status=$?"
      crun_ --rm c3 sh -c 'echo to-out; echo to-err >&2' >"$S/out" 2>"$S/err"
      echo "out=$(tr '\n' ' ' <"$S/out")"; echo "err=$(tr '\n' ' ' <"$S/err")"`);
    expect(value(outcome, 'echo'), outcome.stderr).toBe('hi');
    expect(value(outcome, 'status')).toBe('7');
    expect(value(outcome, 'out')).toBe('to-out ');
    expect(value(outcome, 'err')).toBe('to-err ');
    expectNothingLeft(outcome);
  });

  it('run -t: the container has a terminal of its own, /dev/pts/0', async () => {
    // ctr -t needs its own stdin to be a terminal: script(1) gives it one; script's input,
    // a FIFO held open until it ends (at the end of its input, script would end the session)
    const outcome = await containerd(String.raw`
      mkfifo "$S/keys"
      script -qefc 'crun_ "--rm -t" c1 sh -c "tty; [ -t 0 ] && echo stdin-tty"' /dev/null <"$S/keys" >"$S/screen" & term=$!
      exec 3>"$S/keys"; wait $term; echo "status=$?"; exec 3>&-
      echo "screen=$(tr -d '\r' <"$S/screen" | tr '\n' ' ')"`);
    expect(value(outcome, 'status'), outcome.stdout + outcome.stderr).toBe('0');
    expect(value(outcome, 'screen')).toBe('/dev/pts/0 stdin-tty ');
    expectNothingLeft(outcome);
  });

  it('run -d, then task exec (with its own status), task ps, kill -a -s 9, delete', async () => {
    const outcome = await containerd(String.raw`
      crun_ -d c1 sleep 1000; echo "run=$?"
      echo "running=$(task_status c1)"
      echo "exec=$(c task exec --exec-id e1 c1 sh -c 'tr "\0" " " </proc/1/cmdline')"
      c task exec --exec-id e2 c1 sh -c 'exit 3'; echo "exec_status=$?"
      echo "processes=$(c task ps c1 | tail -n +2 | wc -l)"
      c task kill -a -s 9 c1; echo "kill=$?"
      wait_until "the task to stop" eval '[ "$(task_status c1)" = STOPPED ]'
      c task delete c1 >/dev/null; echo "delete=$?"
      c containers delete c1; echo "container_delete=$?"`);
    expect(value(outcome, 'run'), outcome.stderr).toBe('0');
    expect(value(outcome, 'running')).toBe('RUNNING');
    expect(value(outcome, 'exec')).toBe('sleep 1000 '); // its PID 1
    expect(value(outcome, 'exec_status')).toBe('3');
    expect(value(outcome, 'processes')).toBe('1');
    expect(value(outcome, 'kill')).toBe('0');
    expect(value(outcome, 'delete')).toBe('0');
    expect(value(outcome, 'container_delete')).toBe('0');
    expectNothingLeft(outcome);
  });

  it('task kill: TERM reaches the container, which ends as it chooses; its status comes back to ctr run', async () => {
    const outcome = await containerd(String.raw`
      crun_ --rm c1 sh -c 'trap "echo got-TERM; exit 7" TERM; echo started; while :; do sleep 0.1; done' >"$S/out" & run=$!
      wait_until "the container's shell to start" has started "$S/out"
      c task kill c1; echo "kill=$?"
      wait $run; echo "status=$?"
      echo "out=$(tr '\n' ' ' <"$S/out")"`);
    expect(value(outcome, 'kill'), outcome.stderr).toBe('0');
    expect(value(outcome, 'status')).toBe('7'); // the trap's: TERM reached the shell
    // Its last line may be lost: ctr can end on the exit status before the shim has relayed
    // the output written just before it (seen once in CI, with status 7 all the same).
    expect(value(outcome, 'out')).toMatch(/^started (got-TERM )?$/);
    expectNothingLeft(outcome);
  });
});
