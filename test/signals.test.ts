// Signals and PID 1, as a user of `docker run` expects them, in every step: a signal
// sent to the runtime reaches the command, and the command's status (128+N) becomes the
// runtime's; from step 04 on, the container's PID 1 reaps orphans and passes signals on.
import { constants } from 'node:os';
import { describe, expect, inject, it } from 'vitest';
import { EXPECTED, STEPS } from './course/expectations.ts';
import { START } from './harness/background.ts';
import { value } from './harness/outcome.ts';
import { inSandbox, TIME_SCALE } from './harness/sandbox.ts';

const SIGNALS = ['INT', 'TERM', 'HUP', 'QUIT'] as const;

// The step runs `sh` on a terminal of its own (script's pty); `type` types a line on it.
const TERMINAL = String.raw`
mkfifo "$SANDBOX_DIR/keys"
script -qefc "node steps/$STEP/main.ts run sh" /dev/null <"$SANDBOX_DIR/keys" >"$SANDBOX_DIR/screen" 2>&1 &
term=$!
exec 3>"$SANDBOX_DIR/keys"
type() { printf '%s\n' "$1" >&3; }
until_seen() { wait_until "$1 on the screen" has "$1" "$SANDBOX_DIR/screen"; }
`;

for (const step of STEPS) {
  const sandbox = (script: string) => inSandbox(START + script, { step, ...inject('sandbox') });

  describe.concurrent(`step ${step}: signals and PID 1`, () => {
    for (const signal of SIGNALS) {
      const status = 128 + constants.signals[`SIG${signal}`];
      it(`SIG${signal} sent to the runtime reaches the command; the container ends with ${status}`, async () => {
        // First a command that traps the signal (so it is the command that got it, not
        // only the kernel that ended it), then one that dies of it (busybox sh ignores
        // SIGQUIT: the command is sleep).
        const outcome = await sandbox(String.raw`
          start sh -c 'trap "echo got-$0; exit 3" $0; echo started; while :; do sleep 0.05; done' ${signal}
          kill -${signal} $runtime
          wait $runtime; echo "trapped=$?"
          echo "command=$(grep -c got-${signal} "$SANDBOX_DIR/out")"
          start sh -c 'echo started; exec sleep 1000'
          # Not before sh has become sleep: a signal that hit sh would be gone.
          wait_until 'sh to become sleep' running '^sleep 1000$'
          kill -${signal} $runtime
          wait $runtime; echo "status=$?"
          echo "left=$(others | wc -l)"`);
        expect(value(outcome, 'trapped'), outcome.stdout + outcome.stderr).toBe('3');
        expect(value(outcome, 'command')).toBe('1');
        expect(value(outcome, 'status'), outcome.stdout + outcome.stderr).toBe(`${status}`);
        expect(value(outcome, 'left')).toBe('0');
      });
    }

    // A learner's Ctrl-C, through a real terminal: script(1) runs the step on a pty and
    // types what we write into $SANDBOX_DIR/keys. The shell in the container is
    // interactive; Ctrl-C (byte 3) must stop its foreground job, a 30 s sleep, and
    // nothing else: the shell lives on, and its `exit 4` is the runtime's status.
    it('Ctrl-C at an interactive shell stops its foreground job, not the container', async () => {
      const outcome = await inSandbox(
        TERMINAL +
          String.raw`
        type 'echo rea""dy; sleep 30; echo after-""sleep'
        # Ctrl-C once the shell's foreground job runs: the sleep, as a process of its own
        until_seen ready && wait_until 'the foreground sleep' running '^sleep 30$'
        printf '' >&3
        until_seen '\^C'
        type 'echo sur""vived; exit 4'
        wait $term; echo "status=$?"
        echo "survived=$(grep -c survived "$SANDBOX_DIR/screen")"
        echo "slept_on=$(grep -c after-sleep "$SANDBOX_DIR/screen")"`,
        { step, ...inject('sandbox') },
      );
      expect(value(outcome, 'status'), outcome.stdout + outcome.stderr).toBe('4');
      expect(value(outcome, 'survived')).toBe('1');
      expect(value(outcome, 'slept_on')).toBe('0');
    });

    // An orphan: the command's child whose parent (sh) has ended. It is adopted by the
    // nearest init: from step 04 on, the container's PID 1, ours, which must reap it
    // once it ends; before, the host's init (here the sandbox's bash), which the step
    // has no say over: the container does not even hold its own processes.
    const ownInit = EXPECTED[step]!['init-is-pid-1'];
    it(
      ownInit
        ? "an orphan is adopted by the container's PID 1, which reaps it"
        : "an orphan is adopted by the host's init, outside the container",
      async () => {
        const outcome = await sandbox(String.raw`
        start sh -c 'sh -c "exec sleep 1002 & echo orphan=\$!"; echo started; exec sleep 1000'
        orphan=$(sed -n 's/^orphan=//p' "$SANDBOX_DIR/out")
        # its PID in the sandbox: the sleep whose innermost PID is $orphan (a busy machine
        # may take a moment to show it)
        find_orphan() {
          host_pid=$(grep -lE "^NSpid:.*\s$orphan$" /proc/[0-9]*/status 2>/dev/null | cut -d/ -f3 | while read -r p; do grep -qs '^Name:\s*sleep' /proc/$p/status && echo $p; done | head -1)
          [ -n "$host_pid" ]
        }
        wait_until 'the orphan' find_orphan
        parent=$(awk '/^PPid:/ {print $2}' /proc/$host_pid/status)
        echo "adopter_nspid=$(awk '/^NSpid:/ {print $NF}' /proc/$parent/status)"
        echo "adopter_is_sandbox_init=$([ "$parent" = 1 ] && echo yes || echo no)"
        # it ends; then, until its adopter has reaped it (a zombie left says not)
        kill $host_pid
        reaped() { [ ! -e /proc/$host_pid ]; }
        wait_until 'the orphan to be reaped' reaped
        echo "zombies=$(grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null | wc -l)"
        kill -TERM $runtime
        wait $runtime; echo "status=$?"`);
        expect(value(outcome, 'adopter_is_sandbox_init'), outcome.stdout + outcome.stderr).toBe(ownInit ? 'no' : 'yes');
        if (ownInit) expect(value(outcome, 'adopter_nspid')).toBe('1'); // PID 1 of the container
        expect(value(outcome, 'zombies'), outcome.stdout + outcome.stderr).toBe('0');
        expect(value(outcome, 'status')).toBe('143'); // the TERM that ended it, passed on
      },
    );

    if (ownInit) {
      it('PID 1 passes a signal sent to it inside the container on to the command', async () => {
        // (the sleep bounds the wait for the signal, should PID 1 keep it)
        const outcome = await sandbox(String.raw`
          run sh -c 'trap "echo got-TERM; exit 3" TERM; kill -TERM 1; sleep ${5 * TIME_SCALE} & wait'; echo "status=$?"`);
        expect(value(outcome, 'status'), outcome.stderr).toBe('3');
        expect(outcome.stdout).toContain('got-TERM\n');
      });

      // What the OOM killer does to a node PID 1 (step 09), done by hand: the runtime
      // reports 137, as for a killed command (steps 08+: through busybox's unshare(1),
      // see shared/userns/start.ts), and the PID namespace ends with it.
      it("the container's PID 1 killed with SIGKILL: status 137, nothing left", async () => {
        const outcome = await sandbox(String.raw`
          start sh -c 'echo started; exec sleep 1000'
          # the process that is PID 1 in a PID namespace below the sandbox's
          pid1=$(grep -lE '^NSpid:\s+[0-9]+\s+1$' /proc/[0-9]*/status | cut -d/ -f3); echo "found=$pid1"
          kill -KILL $pid1
          wait $runtime; echo "status=$?"
          echo "left=$(others | wc -l)"`);
        expect(value(outcome, 'found'), outcome.stdout).toMatch(/^\d+$/);
        expect(value(outcome, 'status'), outcome.stderr).toBe('137');
        expect(value(outcome, 'left')).toBe('0');
      });
    }
  });
}
