// podman drives our OCI runtime (`podman --runtime <absolute path>`) exactly as it drives
// runc: create, start, kill, delete, exec. Each test: a sandbox host with a podman
// storage of its own (test/harness/engines.ts), the image imported into it, then what a
// user of podman does, and after it, nothing of the container left.
// Proven on runc first: CFS_OCI_RUNTIME=/usr/bin/runc npx vitest run --project system test/oci/podman.test.ts
import { describe, expect, it } from 'vitest';
import { engineSandbox, PODMAN, RUNTIME, useEngines } from '../harness/engines.ts';
import { value } from '../harness/outcome.ts';
import { type Outcome, TIME_SCALE } from '../harness/sandbox.ts';

useEngines(['podman', 'conmon', 'script']);

// After the test's own lines: every container removed, none of their processes or cgroups
// left (podman's `container cleanup` may still be at work for a moment: wait for it).
const AFTER = String.raw`
echo "all=$(pm ps -aq | wc -l)"
wait_until "the containers' processes and cgroups to go" nothing_left; echo "left=$(leftovers)"`;

const podman = (script: string): Promise<Outcome> => engineSandbox(PODMAN, script + AFTER);

/** The test's own checks passed, and it left nothing: no container, process or cgroup. */
function expectNothingLeft(outcome: Outcome): void {
  expect(value(outcome, 'all'), outcome.stderr).toBe('0');
  expect(value(outcome, 'left'), outcome.stderr).toBe('');
}

describe.concurrent(`podman --runtime ${RUNTIME}`, () => {
  it("run --rm: the command's stdout, its exit status, stdout and stderr apart", async () => {
    const outcome = await podman(String.raw`
      echo "echo=$(prun --rm "$IMG" echo hi)"
      prun --rm "$IMG" sh -c 'exit 5'; echo "status=$?"
      prun --rm "$IMG" sh -c 'echo to-out; echo to-err >&2' >"$S/out" 2>"$S/err"
      echo "out=$(tr '\n' ' ' <"$S/out")"; echo "err=$(tr '\n' ' ' <"$S/err")"`);
    expect(value(outcome, 'echo'), outcome.stderr).toBe('hi');
    expect(value(outcome, 'status')).toBe('5');
    expect(value(outcome, 'out')).toBe('to-out ');
    expect(value(outcome, 'err')).toBe('to-err '); // and nothing of the runtime's
    expectNothingLeft(outcome);
  });

  it('-e, -w, -u 1000:1000, --hostname', async () => {
    const outcome = await podman(String.raw`
      prun --rm -e GREETING=hello -w /tmp -u 1000:1000 --hostname inside "$IMG" sh -c \
        'echo "env=$GREETING"; echo "cwd=$(pwd)"; echo "id=$(id -u):$(id -g)"; echo "hostname=$(hostname)"'`);
    expect(value(outcome, 'env'), outcome.stderr).toBe('hello');
    expect(value(outcome, 'cwd')).toBe('/tmp');
    expect(value(outcome, 'id')).toBe('1000:1000');
    expect(value(outcome, 'hostname')).toBe('inside');
    expectNothingLeft(outcome);
  });

  it('-v a host folder: read and written both ways; with :ro, a write is refused', async () => {
    const outcome = await podman(String.raw`
      mkdir "$S/shared" && echo from-host >"$S/shared/in"
      prun --rm -v "$S/shared:/data" "$IMG" sh -c 'echo "read=$(cat /data/in)"; echo from-container >/data/out'
      echo "host=$(cat "$S/shared/out")"
      prun --rm -v "$S/shared:/data:ro" "$IMG" sh -c 'echo x 2>/dev/null >/data/new; echo "ro_write=$?"'
      echo "files=$(ls "$S/shared" | tr '\n' ' ')"`);
    expect(value(outcome, 'read'), outcome.stderr).toBe('from-host');
    expect(value(outcome, 'host')).toBe('from-container');
    expect(value(outcome, 'ro_write')).toBe('1');
    expect(value(outcome, 'files')).toBe('in out ');
    expectNothingLeft(outcome);
  });

  it('--uidmap: root inside is user 100000 on the host, for run and exec alike', async () => {
    // A user namespace, which Node cannot enter: shared/oci/userns.ts's helper makes it.
    const outcome = await podman(String.raw`
      maps="--uidmap 0:100000:65536 --gidmap 0:100000:65536"
      prun --rm $maps "$IMG" sh -c 'echo "inside=$(id -u) $(cat /proc/self/uid_map | tr -s " " | sed "s/^ //")"'
      id=$(prun -d $maps "$IMG" sleep 100)
      echo "host_user=$(ps -o uid= -p "$(pm inspect --format '{{.State.Pid}}' "$id")" | tr -d ' ')"
      echo "exec=$(pm exec "$id" sh -c 'id -u; grep -c . /proc/self/uid_map' | tr '
' ' ')"
      pm rm -f -t 0 "$id" >/dev/null`);
    expect(value(outcome, 'inside'), outcome.stderr).toBe('0 0 100000 65536');
    expect(value(outcome, 'host_user')).toBe('100000');
    expect(value(outcome, 'exec')).toBe('0 1 ');
    expectNothingLeft(outcome);
  });

  it('--memory 32m: a process that keeps growing is killed, status 137', async () => {
    // a string that doubles until the memory cgroup's OOM killer ends the shell
    const outcome = await podman(String.raw`
      prun --rm --memory 32m "$IMG" sh -c 'x=a; while :; do x=$x$x; done'; echo "status=$?"`);
    expect(value(outcome, 'status'), outcome.stderr).toBe('137');
    expectNothingLeft(outcome);
  });

  it('--pids-limit 5: a fork beyond it fails', async () => {
    // Eight sleeps asked for: busybox's sh says "can't fork" and gives up at the sixth
    // process. (Sleeps of 10 s: a runtime that set no limit keeps the test no longer.)
    const outcome = await podman(String.raw`
      prun --rm --pids-limit 5 "$IMG" sh -c 'for i in 1 2 3 4 5 6 7 8; do sleep 10 & done; echo "all started"' 2>"$S/err"
      echo "fork_failed=$(grep -c "can't fork" "$S/err")"`);
    expect(Number(value(outcome, 'fork_failed')), outcome.stdout + outcome.stderr).toBeGreaterThan(0);
    expectNothingLeft(outcome);
  });

  it('-it through a real terminal: the container has its own, /dev/pts/0', async () => {
    // script(1) gives podman a pty; its input, a FIFO held open until it ends (at the end
    // of its input, script would end the session)
    const outcome = await podman(String.raw`
      mkfifo "$S/keys"
      script -qefc 'prun --rm -it "$IMG" sh -c "tty; [ -t 0 ] && echo stdin-tty"' /dev/null <"$S/keys" >"$S/screen" & term=$!
      exec 3>"$S/keys"; wait $term; echo "status=$?"; exec 3>&-
      echo "screen=$(tr -d '\r' <"$S/screen" | tr '\n' ' ')"`);
    expect(value(outcome, 'status'), outcome.stdout + outcome.stderr).toBe('0');
    expect(value(outcome, 'screen')).toBe('/dev/pts/0 stdin-tty ');
    expectNothingLeft(outcome);
  });

  it('-d, then ps shows it; exec runs in it, with its own status; kill; rm', async () => {
    const outcome = await podman(String.raw`
      id=$(prun -d "$IMG" sleep 1000)
      echo "ps=$(pm ps --format '{{.ID}} {{.Status}}' | grep -c "^${'$'}{id:0:12} Up")"
      echo "exec=$(pm exec "$id" sh -c 'echo "$(hostname) $(tr "\0" " " </proc/1/cmdline)"')"
      pm exec "$id" sh -c 'exit 3'; echo "exec_status=$?"
      pm kill "$id" >/dev/null; echo "kill=$?"
      wait_until "the container to exit" eval '[ "$(pm inspect --format "{{.State.Status}}" "$id")" = exited ]'
      echo "exit_code=$(pm inspect --format '{{.State.ExitCode}}' "$id")"
      pm rm "$id" >/dev/null; echo "rm=$?"`);
    expect(value(outcome, 'ps'), outcome.stderr).toBe('1');
    expect(value(outcome, 'exec')).toMatch(/^[0-9a-f]{12} sleep 1000 $/); // its hostname (the ID's start), its PID 1
    expect(value(outcome, 'exec_status')).toBe('3');
    expect(value(outcome, 'kill')).toBe('0');
    expect(value(outcome, 'exit_code')).toBe('137'); // 128 + SIGKILL
    expect(value(outcome, 'rm')).toBe('0');
    expectNothingLeft(outcome);
  });

  it('stop -t 2 on a container that ignores TERM: TERM, then KILL after 2 s', async () => {
    // Its shell traps TERM (and notes it) and goes on: only the KILL ends it.
    const outcome = await podman(String.raw`
      mkdir "$S/log"
      id=$(prun -d -v "$S/log:/log" "$IMG" sh -c 'trap "echo TERM >>/log/got" TERM; echo started >/log/got; while :; do sleep 0.1; done')
      wait_until "the container's shell to start" has started "$S/log/got"
      start=${'$'}{EPOCHREALTIME/[.,]/}
      pm stop -t 2 "$id" >/dev/null 2>&1; echo "stop=$?"
      end=${'$'}{EPOCHREALTIME/[.,]/}; echo "took_ms=$(( (end - start) / 1000 ))"
      echo "got=$(tr '\n' ' ' <"$S/log/got")"
      echo "exit_code=$(pm inspect --format '{{.State.ExitCode}}' "$id")"
      pm rm "$id" >/dev/null; echo "rm=$?"`);
    expect(value(outcome, 'stop'), outcome.stderr).toBe('0');
    expect(value(outcome, 'got')).toBe('started TERM ');
    expect(Number(value(outcome, 'took_ms'))).toBeGreaterThanOrEqual(2000);
    expect(Number(value(outcome, 'took_ms'))).toBeLessThan(2000 + 8000 * TIME_SCALE);
    expect(value(outcome, 'exit_code')).toBe('137');
    expect(value(outcome, 'rm')).toBe('0');
    expectNothingLeft(outcome);
  });
});
