import { describe, expect, inject, it } from 'vitest';
import { EXPECTED, stepsWhere } from '../course/expectations.ts';
import { START } from '../harness/background.ts';
import { value } from '../harness/outcome.ts';
import { inSandbox, TIME_SCALE } from '../harness/sandbox.ts';

// Bash for the sandbox, which is the host here: it has a network namespace of its own.
// `gone` waits for the host's cfs-* interfaces to go: the kernel destroys a network
// namespace (and with it the veth pair) in the background, moments after its last
// process ends. Then it prints how many are left.
const HELPERS = String.raw`
links() { ip -o link show | grep -c ': cfs-'; }
no_links() { [ "$(links)" = 0 ]; }
gone() { wait_until 'the veth pairs to go' no_links; links; }
# what the container says about itself: "address=10.200.x.y/30", "gateway=10.200.x.z"
SELF='echo "address=$(ip -o -4 addr show eth0 | awk "{print \$4}")"; echo "gateway=$(ip route | sed -n "s/^default via \([0-9.]*\).*/\1/p")"'
`;

/** "10.200.1.6/30" -> the number of its /30 ("10.201.0.2/16": of its /16) */
const subnetOf = (cidr: string) =>
  cidr
    .split('/')[0]!
    .split('.')
    .reduce((n, byte) => n * 256 + Number(byte), 0) >>>
  (32 - Number(cidr.split('/')[1] ?? 30));

for (const step of stepsWhere('reaches-host')) {
  // From step 12 on, the host's end is a port of the bridge cfs0, which has the address
  // (the gateway) for every container: a /16 of 10.201.0.0/16, not a /30 per container.
  const bridged = EXPECTED[step]!['reaches-other-container'];
  const ADDRESS = bridged ? /^10\.201\.\d+\.\d+\/16$/ : /^10\.200\.\d+\.\d+\/30$/;
  describe.concurrent(`step ${step}: a veth pair to the host`, () => {
    const sandbox = (script: string) => inSandbox(START + HELPERS + script, { step, ...inject('sandbox') });

    it('the container has eth0, an address and a default route to the host, which it reaches (ping, TCP) and which reaches it; nothing left after', async () => {
      const outcome = await sandbox(String.raw`
        sleep 1000 | busybox nc -l -p 7777 >"$SANDBOX_DIR/got" & # (stdin open: see test/course/probes.ts, reaches-host)
        wait_until 'the server on 7777' listening 7777
        start sh -c "$SELF"'
          echo "interfaces=$(awk -F: "NR > 2 {print \$1}" /proc/net/dev | tr -d " " | sort | tr "\n" " ")"
          gw=$(ip route | sed -n "s/^default via \([0-9.]*\).*/\1/p")
          ping -c 1 -W ${2 * TIME_SCALE} "$gw" >/dev/null && echo ping=ok
          echo hello-host | nc -w ${2 * TIME_SCALE} "$gw" 7777; echo started; exec sleep 1000'
        echo "host=$(ip -o -4 addr show | awk '$2 ~ /^cfs/ {print $4}')"
        echo "up=$(ip -o link show up | grep -c ': cfs-')"
        container=$(sed -n 's/^address=\([0-9.]*\).*/\1/p' "$SANDBOX_DIR/out")
        busybox ping -c 1 -W ${2 * TIME_SCALE} "$container" >/dev/null && echo host_ping=ok
        wait_until 'the line to reach the server' has hello-host "$SANDBOX_DIR/got" # it writes in its own time
        echo "got=$(cat "$SANDBOX_DIR/got")"
        kill -TERM $runtime; wait $runtime; echo "status=$?"
        echo "left=$(gone)"
        cat "$SANDBOX_DIR/out"`);
      const [address, gateway] = [value(outcome, 'address'), value(outcome, 'gateway')];
      expect(address, outcome.stdout + outcome.stderr).toMatch(ADDRESS);
      expect(value(outcome, 'host')).toBe(`${gateway}/${address!.split('/')[1]}`); // the host's end (12+: the bridge) is the gateway
      expect(subnetOf(address!)).toBe(subnetOf(`${gateway}/${address!.split('/')[1]}`)); // one subnet, two ends
      expect(value(outcome, 'interfaces')).toBe('eth0 lo ');
      expect(value(outcome, 'up')).toBe('1');
      expect(value(outcome, 'ping')).toBe('ok');
      expect(value(outcome, 'got')).toBe('hello-host');
      expect(value(outcome, 'host_ping')).toBe('ok');
      expect(value(outcome, 'status')).toBe('143');
      expect(value(outcome, 'left')).toBe('0');
    });

    it('two containers at once: each its own address, both reach the host', async () => {
      const outcome = await sandbox(String.raw`
        # Each says its address, then waits for a line on its stdin: both run at once.
        for i in 1 2; do
          mkfifo "$SANDBOX_DIR/go-$i"
          run sh -c "$SELF"'; gw=$(ip route | sed -n "s/^default via \([0-9.]*\).*/\1/p")
            read -r _; ping -c 1 -W ${2 * TIME_SCALE} "$gw" >/dev/null && echo ping=ok' <"$SANDBOX_DIR/go-$i" >"$SANDBOX_DIR/out-$i" 2>/dev/null &
          exec {go}>"$SANDBOX_DIR/go-$i"; gos+=($go)
        done
        wait_until 'both containers to run' has '^gateway=' "$SANDBOX_DIR/out-1" && wait_until 'both containers to run' has '^gateway=' "$SANDBOX_DIR/out-2"
        echo "during=$(links)"
        for go in "${'$'}{gos[@]}"; do echo >&$go; exec {go}>&-; done
        wait
        for i in 1 2; do sed "s/^/$i-/" "$SANDBOX_DIR/out-$i"; done
        echo "left=$(gone)"`);
      const [one, two] = [value(outcome, '1-address'), value(outcome, '2-address')];
      expect(one, outcome.stdout + outcome.stderr).toMatch(ADDRESS);
      expect(two).toMatch(ADDRESS);
      expect(one).not.toBe(two);
      expect(value(outcome, 'during')).toBe('2'); // two veth pairs on the host at once
      if (!bridged) expect(subnetOf(one!)).not.toBe(subnetOf(two!));
      expect(value(outcome, '1-ping')).toBe('ok');
      expect(value(outcome, '2-ping')).toBe('ok');
      expect(value(outcome, 'left')).toBe('0');
    });

    it('the runtime killed with SIGKILL: the kernel removes the veth pair with the container', async () => {
      const outcome = await sandbox(String.raw`
        start sh -c 'echo started; exec sleep 1000'
        echo "before=$(links)"
        kill -KILL $runtime; wait $runtime 2>/dev/null
        echo "left=$(gone)"
        echo "processes=$(others | wc -l)"`);
      expect(value(outcome, 'before'), outcome.stdout + outcome.stderr).toBe('1');
      expect(value(outcome, 'left')).toBe('0');
      expect(value(outcome, 'processes')).toBe('0');
    });

    // A host whose addresses cover all of 10.200.0.0/16 (12+: all of 10.0.0.0/8, every
    // network the bridge could take), and an `ip` that fails: one line
    // that names the call, status 125, the command never runs, nothing is left.
    it('no free subnet, or ip failing: one line, status 125, nothing left', async () => {
      const outcome = await sandbox(String.raw`
        ip link add br-taken type bridge && ip addr add ${bridged ? '10.0.0.1/8' : '10.200.0.1/16'} dev br-taken
        run sh -c 'echo command-ran' 2>"$SANDBOX_DIR/err"; echo "full=$?"; echo "full_err=$(grep -v '^Running' "$SANDBOX_DIR/err")"
        ip link del br-taken
        real_ip=$(command -v ip); mkdir "$SANDBOX_DIR/bin"; printf '%s\n' '#!/bin/sh' 'input=$(cat)' \
          'case "$input" in *"link add"*) echo "RTNETLINK answers: Operation not permitted" >&2; echo "Command failed -:1" >&2; exit 1;; esac' \
          'printf "%s\n" "$input" | exec '"$real_ip"' "$@"' >"$SANDBOX_DIR/bin/ip"; chmod +x "$SANDBOX_DIR/bin/ip"
        PATH="$SANDBOX_DIR/bin:$PATH" run sh -c 'echo command-ran' 2>"$SANDBOX_DIR/err"; echo "failing=$?"; echo "failing_err=$(grep -v '^Running' "$SANDBOX_DIR/err")"
        echo "left=$(gone)"
        echo "layers=$(ls "$CONTAINER_STATE/containers" 2>/dev/null | wc -l)"
        echo "cgroups=$(ls -d /sys/fs/cgroup/$CGROUP_PARENT/* /sys/fs/cgroup/*/$CGROUP_PARENT/* 2>/dev/null | wc -l)"`);
      expect(outcome.stdout).not.toContain('command-ran');
      expect(value(outcome, 'full'), outcome.stderr).toBe('125');
      expect(value(outcome, 'full_err')).toBe(
        bridged
          ? 'bridge: every /16 from 10.201.0.0 to 10.254.0.0 overlaps an address of this host'
          : 'veth: no free /30 left in 10.200.0.0/16 on this host',
      );
      expect(value(outcome, 'failing')).toBe('125');
      expect(value(outcome, 'failing_err')).toMatch(
        // 12+: the first `link add` is the bridge's
        /^ip link add cfs(0 type bridge|-[0-9a-f]{8} type veth peer name eth0 netns \d+): RTNETLINK answers: Operation not permitted$/,
      );
      expect(value(outcome, 'left')).toBe('0');
      expect(value(outcome, 'layers')).toBe('0');
      expect(value(outcome, 'cgroups')).toBe('0');
    });
  });
}
