// Nothing left behind, in every step: not when the runtime itself is killed with
// SIGKILL (from step 04 on, when the container has a PID namespace), not when many
// containers run at once.
import { describe, expect, inject, it } from 'vitest';
import { EXPECTED, STEPS } from './course/expectations.ts';
import { START } from './harness/background.ts';
import { value } from './harness/outcome.ts';
import { inSandbox, type Outcome } from './harness/sandbox.ts';

// Ten at once from step 08 on, where containers share what the runtime hands out (ID
// ranges, then cgroups, layers, addresses); before, five show that nothing mixes.
// (Twenty: the bridge test's, and bad input's clean loop beside step 10.)
const parallel = (step: string) => (EXPECTED[step]!['root-is-host-root'] ? 5 : 10);

// What a container may leave behind, listed: mounts, cgroups under this sandbox's
// CGROUP_PARENT, files in the state directory (step 10's images and writable layers),
// network interfaces (step 11's veth pairs), IPv4 addresses and nftables rules (step
// 12's leases and published ports; its bridge and table stay by design). The tests compare the list before and
// after, once a first run has made what stays by design (an image).
const RESOURCES = String.raw`
resources() {
  # The kernel destroys a dead container's veth pair moments after its last process.
  no_veth() { ! ip -o link show | grep -q ': cfs-'; }
  wait_until "the containers' veth pairs to go" no_veth
  {
    ip -o link show | awk -F': ' '{print "link " $2}'
    ip -o -4 addr show | awk '{print "address " $2 " " $4}'
    nft list ruleset 2>/dev/null | sed 's/^/nft /'
    awk '{print "mount " $5}' /proc/self/mountinfo
    ls -d /sys/fs/cgroup/$CGROUP_PARENT/* /sys/fs/cgroup/*/$CGROUP_PARENT/* 2>/dev/null | sed 's/^/cgroup /'
    find "$CONTAINER_STATE" -mindepth 1 | sed 's/^/file /'
  } | sed "s|$CONTAINERFS/|\$CONTAINERFS/|" | sort
}`;
const CHANGES = String.raw`resources | diff "$SANDBOX_DIR/before" - | sed -n 's/^> /added: /p; s/^< /removed: /p'`;
const changes = (outcome: Outcome) => outcome.stdout.split('\n').filter((line) => /^(added|removed): /.test(line));

for (const step of STEPS) {
  const sandbox = (script: string) => inSandbox(START + script, { step, timeoutMs: 55_000, ...inject('sandbox') });

  const PARALLEL = parallel(step);
  describe.concurrent(`step ${step}: leftovers`, () => {
    // Steps 01-03 cannot: in 01-02 the command is Node's direct child, and Node's spawn
    // runs nothing of ours between fork and exec, where a parent-death signal would be
    // set; in 03 our child dies with the runtime but the command outlives it. Only a
    // PID namespace lets the kernel end every process of the container. What a killed
    // runtime could not remove (cgroups, mounts, writable layers), npm run clean does.
    const dies = EXPECTED[step]!['init-is-pid-1'];
    it(`a runtime killed with SIGKILL ${dies ? 'takes the container with it' : 'leaves the command running'}; npm run clean removes the rest`, async () => {
      const outcome = await sandbox(String.raw`
        ${RESOURCES}
        run true 2>/dev/null; node scripts/clean.ts >/dev/null
        resources >"$SANDBOX_DIR/before"
        start sh -c 'echo started; exec sleep 1000'
        wait_until 'sh to become sleep' running '^sleep 1000$'
        kill -KILL $runtime; wait $runtime 2>/dev/null
        # until what is left is what the step leaves: nothing, or the command alone (the
        # runtime's child, in step 03, ends with it, a moment later)
        left() { others | awk '{print $2}' | sort | tr '\n' ' '; }
        settled() { [ "$(left)" = "${dies ? '' : 'sleep '}" ]; }
        wait_until 'what the killed runtime leaves' settled
        echo "left=$(left)"
        others | awk '{print $1}' | xargs -r kill -KILL
        node scripts/clean.ts >"$SANDBOX_DIR/cleaned" 2>&1; echo "clean=$?"
        ${CHANGES}`);
      expect(value(outcome, 'left'), outcome.stderr).toBe(dies ? '' : 'sleep ');
      expect(value(outcome, 'clean'), outcome.stdout).toBe('0');
      expect(changes(outcome)).toEqual([]);
    });

    it(`${PARALLEL} containers at once: each output and status right, nothing left`, async () => {
      const outcome = await sandbox(String.raw`
        ${RESOURCES}
        run true 2>/dev/null
        resources >"$SANDBOX_DIR/before"
        # All alive at once: each says its line, then waits for one on its stdin (a fifo
        # of its own), which comes once all have spoken.
        gos=()
        for i in $(seq ${PARALLEL}); do
          mkfifo "$SANDBOX_DIR/go-$i"
          (run sh -c 'echo "out-$0"; read -r _; exit $(($0 % 7))' $i <"$SANDBOX_DIR/go-$i" >"$SANDBOX_DIR/out-$i" 2>/dev/null
            echo $? >"$SANDBOX_DIR/status-$i") &
          exec {go}>"$SANDBOX_DIR/go-$i"; gos+=($go)
        done
        all_spoke() { [ "$(cat "$SANDBOX_DIR"/out-* | wc -l)" -ge ${PARALLEL} ]; }
        wait_until 'all ${PARALLEL} to run' all_spoke
        for go in "${'$'}{gos[@]}"; do echo >&$go; exec {go}>&-; done
        wait
        for i in $(seq ${PARALLEL}); do echo "result-$i=$(cat "$SANDBOX_DIR/out-$i")/$(cat "$SANDBOX_DIR/status-$i")"; done
        echo "processes=$(others | wc -l)"
        ${CHANGES}`);
      for (let i = 1; i <= PARALLEL; i++) expect(value(outcome, `result-${i}`), outcome.stderr).toBe(`out-${i}/${i % 7}`);
      expect(value(outcome, 'processes')).toBe('0');
      // Step 05 mounts /proc on the host at every run: the leak its lesson is about.
      expect(changes(outcome)).toEqual(EXPECTED[step]!['proc-mount-leaks'] ? Array(PARALLEL).fill('added: mount $CONTAINERFS/proc') : []);
    });
  });
}
