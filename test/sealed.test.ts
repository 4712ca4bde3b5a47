// What the runtime must never give away, in any step: the caller's descriptors, Node's
// debugger; from step 10 on, the image store to the host's users and the host's
// devices to the container. Each test is the attack, which the fix makes fail.
import { describe, expect, inject, it } from 'vitest';
import { STEPS, stepsWhere } from './course/expectations.ts';
import { START } from './harness/background.ts';
import { value } from './harness/outcome.ts';
import { inSandbox, TIME_SCALE } from './harness/sandbox.ts';

const WINDOW = 0.5 * TIME_SCALE; // seconds

for (const step of STEPS) {
  const sandbox = (script: string) => inSandbox(START + script, { step, ...inject('sandbox') });

  describe.concurrent(`step ${step}: nothing of the caller's leaks`, () => {
    it("the caller's open descriptors do not reach the command: it has 0, 1 and 2", async () => {
      // fd 7: a file; fd 8: a directory of the host's (from step 06, the way out).
      const outcome = await sandbox(String.raw`
        exec 7</etc/hostname 8</
        run sh -c 'echo "fds=$(ls /proc/self/fd | sort -n | tr "\n" " ")"'`);
      // ls's own: 0 1 2 and the directory it reads (3)
      expect(value(outcome, 'fds'), outcome.stderr).toBe('0 1 2 3 ');
    });

    it("SIGUSR1 opens no debugger: not in the runtime, not in the container's first process", async () => {
      // A debugger listens on 9229: 240D in /proc/net/tcp, where 0A is LISTEN (outside,
      // wait.sh's listening reads it); the container looks in its own network.
      // The sandbox's lo up: a debugger can listen only where 127.0.0.1 is. An absence is
      // seen over a window (a debugger would listen within it), as long as the machine is
      // slow: the one wait on time, as nothing comes to wait for.
      const outcome = await sandbox(String.raw`
        ip link set lo up
        start sh -c 'echo started; kill -USR1 $PPID; sleep ${WINDOW}; echo "inside=$(grep -c ":240D 00000000:0000 0A" /proc/net/tcp)"'
        kill -USR1 $runtime; sleep ${WINDOW}
        echo "outside=$(listening 9229 && echo 1 || echo 0)"
        wait $runtime; echo "status=$?"
        grep '^inside=' "$SANDBOX_DIR/out"
        echo "said=$(grep -c 'Debugger listening' "$SANDBOX_DIR/err")"`);
      expect(value(outcome, 'status'), outcome.stdout + outcome.stderr).toBe('0');
      expect(value(outcome, 'outside')).toBe('0');
      expect(value(outcome, 'inside')).toBe('0');
      expect(value(outcome, 'said')).toBe('0');
    });
  });
}

for (const step of stepsWhere('writes-reach-rootfs', false)) {
  describe.concurrent(`step ${step}: the image store`, () => {
    // An image with a setuid-root shell and a device node of the host's disk.
    const IMAGE = String.raw`
      mkdir -p "$SANDBOX_DIR/extra/bin" "$SANDBOX_DIR/extra/dev"
      cp "$CONTAINERFS/bin/busybox" "$SANDBOX_DIR/extra/bin/suid-busybox"; chmod 4755 "$SANDBOX_DIR/extra/bin/suid-busybox"
      mkdir -p "$SANDBOX_DIR/extra/data"; chmod 777 "$SANDBOX_DIR/extra/data"; cp -a "$SANDBOX_DIR/extra/bin/suid-busybox" "$SANDBOX_DIR/extra/data/"
      mknod "$SANDBOX_DIR/extra/dev/disk" b 8 0
      tar -cf "$SANDBOX_DIR/img.tar" -C "$CONTAINERFS" . -C "$SANDBOX_DIR/extra" bin dev data
      npm run -s image -- import evil "$SANDBOX_DIR/img.tar" 2>"$SANDBOX_DIR/import-err"; echo "import=$?"`;

    it("a host user cannot reach an image's setuid program (the store is root's only)", async () => {
      const outcome = await inSandbox(
        IMAGE +
          String.raw`
        f="$CONTAINER_STATE/images/evil/bin/suid-busybox"
        echo "root_sees=$([ -u "$f" ] && echo setuid)"
        echo "nobody_reaches=$(setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'test -e "$0" && echo yes || echo no' "$f")"
        echo "state=$(stat -c %a "$CONTAINER_STATE")"; echo "images=$(stat -c %a "$CONTAINER_STATE/images")"`,
        { step, ...inject('sandbox') },
      );
      expect(value(outcome, 'import'), outcome.stderr).toBe('0');
      expect(value(outcome, 'root_sees')).toBe('setuid');
      expect(value(outcome, 'nobody_reaches')).toBe('no'); // it cannot even see it
      expect(value(outcome, 'state')).toBe('711');
      expect(value(outcome, 'images')).toBe('700');
    });

    // The container moves a setuid program in a directory anyone may write: overlayfs
    // copies it up into the writable layer, root's and setuid still. --keep keeps it.
    it('a host user cannot reach the writable layer, nor a setuid program copied up into it', async () => {
      const outcome = await inSandbox(
        IMAGE +
          String.raw`
        node "steps/$STEP/main.ts" run --keep --image evil sh -c 'mv /data/suid-busybox /data/moved && echo moved=yes' 2>"$SANDBOX_DIR/err"
        layer=$(sed -n 's/^writable layer kept: //p' "$SANDBOX_DIR/err")
        f="$layer/upper/data/moved"
        echo "root_sees=$([ -u "$f" ] && echo setuid)"
        echo "nobody_reaches=$(setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'test -e "$0" && echo yes || echo no' "$f")"
        echo "layer=$(stat -c '%a %u' "$layer")"`,
        { step, ...inject('sandbox') },
      );
      expect(value(outcome, 'moved'), outcome.stderr).toBe('yes');
      expect(value(outcome, 'root_sees')).toBe('setuid');
      expect(value(outcome, 'nobody_reaches')).toBe('no');
      expect(value(outcome, 'layer')).toBe('710 0');
    });

    it("an image's device nodes are left out, but null, zero and the like", async () => {
      const outcome = await inSandbox(
        IMAGE +
          String.raw`
        echo "said=$(grep -c 'device node(s)' "$SANDBOX_DIR/import-err")"
        node "steps/$STEP/main.ts" run --image evil sh -c 'echo "disk=$(ls /dev/disk 2>/dev/null | wc -l) null=$(echo x >/dev/null && echo ok)"' 2>/dev/null`,
        { step, ...inject('sandbox') },
      );
      expect(value(outcome, 'said'), outcome.stderr).toBe('1');
      expect(value(outcome, 'disk')).toBe('0 null=ok');
    });

    it('an image without /proc still starts (the runtime makes the mount point)', async () => {
      const outcome = await inSandbox(
        String.raw`
        tar -cf "$SANDBOX_DIR/noproc.tar" -C "$CONTAINERFS" --exclude=./proc .
        npm run -s image -- import noproc "$SANDBOX_DIR/noproc.tar" 2>/dev/null
        node "steps/$STEP/main.ts" run --image noproc sh -c 'echo "procs=$(ls /proc | grep -c "^[0-9]")"' 2>"$SANDBOX_DIR/err"; echo "status=$?"`,
        { step, ...inject('sandbox') },
      );
      expect(value(outcome, 'status'), outcome.stderr).toBe('0');
      expect(Number(value(outcome, 'procs'))).toBeGreaterThan(0);
    });
  });
}

for (const step of stepsWhere('root-is-host-root', false)) {
  describe(`step ${step}: the container's root on the host`, () => {
    it('each container gets 65536 host IDs of its own: no other container, and no other process (nobody), is its root', async () => {
      const outcome = await inSandbox(
        START +
          String.raw`
        start sh -c 'echo started; exec sleep 1000'
        wait_until 'the first container to become sleep' running '^sleep 1000$'
        map() { awk '{print $1 ":" $2 ":" $3}' /proc/$1/uid_map; }
        # the first container's command, as the host sees it: a sleep whose user is not ours
        first=$(for p in $(pgrep -x sleep); do [ "$(awk '/^Uid:/ {print $2}' /proc/$p/status)" != 0 ] && echo $p; done | head -1)
        echo "first=$(map $first)"
        echo "second=$(run sh -c 'awk "{print \$1 \":\" \$2 \":\" \$3}" /proc/self/uid_map' 2>/dev/null)"
        echo "nobody_reads=$(setpriv --reuid=65534 --regid=65534 --clear-groups ls /proc/$first/root/ 2>/dev/null | wc -l)"
        kill $runtime; wait $runtime`,
        { step, ...inject('sandbox') },
      );
      const [first, second] = [value(outcome, 'first'), value(outcome, 'second')];
      expect(first, outcome.stdout + outcome.stderr).toMatch(/^0:\d+:65536$/);
      expect(second).toMatch(/^0:\d+:65536$/);
      const [a, b] = [Number(first!.split(':')[1]), Number(second!.split(':')[1])];
      expect(Math.abs(a - b)).toBeGreaterThanOrEqual(65536); // ranges apart
      for (const base of [a, b]) expect(base).toBeGreaterThan(65535); // never root, nobody or a user's
      expect(value(outcome, 'nobody_reads')).toBe('0');
    });
  });
}
