import { describe, expect, inject, it } from 'vitest';
import { EXPECTED, stepsWhere } from '../course/expectations.ts';
import { WORLD } from '../course/probes.ts';
import { START } from '../harness/background.ts';
import { value } from '../harness/outcome.ts';
import { inSandbox, TIME_SCALE } from '../harness/sandbox.ts';

// Bash for the sandbox, which is the host here, with an "outside world" of its own
// (test/course/probes.ts's WORLD: 203.0.113.2, a web server, no route to the containers).
// `network` lists what the bridge network holds besides the bridge and the table, which
// stay by design: veth ends, addresses, leases in use, rules of published ports. `gone`
// waits (the kernel destroys a dead container's veth pair in the background), then lists.
const HELPERS = String.raw`
ip link set lo up
network() {
  ip -o link show | awk -F': ' '$2 ~ /^cfs-/ {print "link " $2}'
  ip -o -4 addr show | awk '$2 != "lo" && $2 != "cfs0" && $2 != "wv0" {print "address " $2 " " $4}'
  nft list chain ip container-from-scratch published 2>/dev/null | grep dnat | sed 's/^\s*/rule /'
  for f in /run/container-from-scratch/bridge/leases/*; do [ -e "$f" ] && ! flock -n "$f" true && echo "lease $f"; done
}
no_network() { [ -z "$(network)" ]; }
gone() { wait_until 'the network to go' no_network; network | tr '\n' ' '; }
page() { timeout ${5 * TIME_SCALE} busybox wget -q -O - "$@" 2>&1; }
SERVE='echo "hello-from-$(hostname)-$(ip -4 -o addr show eth0 | awk "{print \$4}")" >/tmp/index.html; httpd -p 80 -h /tmp && echo started; exec sleep 1000'
`;

const bridgeSteps = stepsWhere('reaches-other-container');
for (const step of bridgeSteps) {
  const sandbox = (script: string, timeoutMs = 30_000) =>
    inSandbox(START + WORLD + HELPERS + script, { step, timeoutMs, ...inject('sandbox') });
  const publishes = EXPECTED[step]!['publishes-port'];

  describe.concurrent(`step ${step}: a bridge, NAT, DNS`, () => {
    it('the world is reached through the NAT, as the host; two containers talk by address; nothing left after', async () => {
      const outcome = await sandbox(String.raw`
        echo "direct=$(world ip route get 10.201.0.2 2>&1 | grep -c unreachable)"  # the world has no route back
        # (it says "started" just before nc listens: the host waits until it does, in its
        # network). Its stdin, a fifo, stays open until the neighbour has sent: at its end
        # nc closes its side, and the neighbour's nc, told so first, would not send.
        mkfifo "$SANDBOX_DIR/hold"
        node "$REPO/steps/$STEP/main.ts" run sh -c 'ip -4 -o addr show eth0 | awk "{print \"first=\" \$4}"; echo started; exec nc -l -p 7000' \
          <"$SANDBOX_DIR/hold" >"$SANDBOX_DIR/out" 2>"$SANDBOX_DIR/err" & runtime=$!
        exec 3>"$SANDBOX_DIR/hold"
        wait_until 'the first container to start' has started "$SANDBOX_DIR/out"
        first=$(sed -n 's/^first=\([0-9.]*\).*/\1/p' "$SANDBOX_DIR/out"); grep '^first=' "$SANDBOX_DIR/out"
        first_listens() { local nc; nc=$(pgrep -f '^nc -l -p 7000$') && listening 7000 "$nc"; }
        wait_until 'the first container to listen' first_listens
        run sh -c 'echo "world=$(timeout ${5 * TIME_SCALE} wget -q -O - http://203.0.113.2/)"; echo hello-neighbour | nc -w ${2 * TIME_SCALE} "$0" 7000' "$first"
        exec 3>&-; wait $runtime; echo "status=$?"; grep hello-neighbour "$SANDBOX_DIR/out" | sed 's/^/neighbour=/'
        echo "ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"
        echo "seen_by_world=$(world cat /proc/net/nf_conntrack 2>/dev/null | wc -l)"
        echo "left=$(gone)"
        echo "bridge=$(ip -o -4 addr show cfs0 | awk '{print $4}')"`);
      expect(value(outcome, 'direct'), outcome.stdout + outcome.stderr).toBe('1');
      expect(value(outcome, 'world')).toBe('hello-from-world');
      expect(value(outcome, 'first')).toMatch(/^10\.201\.0\.\d+\/16$/);
      expect(value(outcome, 'neighbour')).toBe('hello-neighbour');
      expect(value(outcome, 'status')).toBe('0');
      expect(value(outcome, 'ip_forward')).toBe('1');
      expect(value(outcome, 'left')).toBe('');
      expect(value(outcome, 'bridge')).toBe('10.201.0.1/16'); // kept, as docker0
    });

    // The review's attacks on the host: a LAN neighbour (192.0.2.2, the sandbox host its
    // router) and a container, each trying what the host must not let through.
    it('the host forwards nothing but its containers: not a neighbour into its other networks, nor to an unpublished port, nor to 127.0.0.1', async () => {
      const outcome = await sandbox(String.raw`
        ip netns add lan; ip link add lan0 type veth peer name eth0 netns lan
        ip addr add 192.0.2.1/24 dev lan0; ip link set lan0 up
        ip -n lan addr add 192.0.2.2/24 dev eth0; ip -n lan link set eth0 up; ip -n lan route add default via 192.0.2.1
        lan() { ip netns exec lan "$@"; }
        fetch() { lan timeout ${2 * TIME_SCALE} busybox wget -q -O - "$1" 2>/dev/null | grep -c "$2"; }
        echo "world_before=$(fetch http://203.0.113.2/ hello-from-world)"
        start ${publishes ? '-p 8080:80 -p 127.0.0.1:9090:80' : ''} sh -c "$SERVE"
        c=$(ls /run/container-from-scratch/bridge/leases/) # the container's address
        echo "world_during=$(fetch http://203.0.113.2/ hello-from-world)" # into another network of the host's
        ip -n lan route add 10.201.0.0/16 via 192.0.2.1
        echo "unpublished=$(fetch "http://$c:80/" hello-from)" # straight to the container's address
        echo "published=$(fetch http://192.0.2.1:8080/ hello-from)" # 0 where nothing is published
        # 127.0.0.1 through the host: the neighbour's own 127.0.0.1 gone, route_localnet to send it
        ip -n lan addr del 127.0.0.1/8 dev lo; lan sysctl -qw net.ipv4.conf.eth0.route_localnet=1
        ip -n lan route add 127.0.0.1/32 via 192.0.2.1 dev eth0
        echo "local_only=$(fetch http://127.0.0.1:9090/ hello-from)"
        # a host service on 127.0.0.1 only, and a container that routes 127.0.0.1 to the host
        mkdir "$SANDBOX_DIR/secret"; echo host-secret >"$SANDBOX_DIR/secret/index.html"; busybox httpd -p 127.0.0.1:7777 -h "$SANDBOX_DIR/secret"
        run sh -c 'echo 1 >/proc/sys/net/ipv4/conf/eth0/route_localnet; ip addr del 127.0.0.1/8 dev lo
          ip route add 127.0.0.1/32 via 10.201.0.1 dev eth0; echo "secret=$(timeout ${2 * TIME_SCALE} wget -q -O - http://127.0.0.1:7777/ 2>/dev/null)"'
        kill -TERM $runtime; wait $runtime
        node scripts/clean.ts | grep -c 'forwarding back off' | sed 's/^/restored=/'
        echo "ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"`);
      expect(value(outcome, 'world_before'), outcome.stdout + outcome.stderr).toBe('0');
      expect(value(outcome, 'published')).toBe(publishes ? '1' : '0');
      expect(value(outcome, 'world_during')).toBe('0');
      expect(value(outcome, 'unpublished')).toBe('0');
      expect(value(outcome, 'local_only')).toBe('0');
      expect(value(outcome, 'secret')).toBe('');
      expect(value(outcome, 'restored')).toBe('1');
      expect(value(outcome, 'ip_forward')).toBe('0');
    });

    // The review's race: the image's /etc belongs to a host user (nobody here), who finds
    // each container's id (its cgroup's name, which anyone may list) and swaps its
    // upper/etc/resolv.conf for a symlink to a file of root's, again and again.
    it("a host user who owns the image's /etc cannot turn root's resolv.conf write elsewhere", async () => {
      const outcome = await sandbox(String.raw`
        cp -a "$CONTAINERFS" "$SANDBOX_DIR/img"; chown 65534:65534 "$SANDBOX_DIR/img/etc"
        tar -cf "$SANDBOX_DIR/img.tar" -C "$SANDBOX_DIR/img" . && npm run -s image -- import etcnobody "$SANDBOX_DIR/img.tar" 2>/dev/null
        echo host-file >"$SANDBOX_DIR/victim"
        setpriv --reuid=65534 --regid=65534 --clear-groups bash -c 'while [ ! -e "$0/stop" ]; do
          for c in /sys/fs/cgroup/"$2"/*/ /sys/fs/cgroup/*/"$2"/*/; do c=${'$'}{c%/}
            ln -sfn "$0/victim" "$1/containers/${'$'}{c##*/}/upper/etc/resolv.conf" 2>/dev/null
          done; done' "$SANDBOX_DIR" "$CONTAINER_STATE" "$CGROUP_PARENT" &
        for i in 1 2 3 4 5; do run --image etcnobody head -1 /etc/resolv.conf 2>/dev/null; done | sort | uniq -c | sed 's/^ */seen=/'
        touch "$SANDBOX_DIR/stop"; wait
        echo "victim=$(cat "$SANDBOX_DIR/victim")"
        echo "etc_owner=$(run --keep --image etcnobody true 2>&1 | sed -n 's/^writable layer kept: //p' | xargs -I{} stat -c %u {}/upper/etc)"`);
      expect(value(outcome, 'victim'), outcome.stdout + outcome.stderr).toBe('host-file');
      expect(outcome.stdout).toMatch(/^seen=5 nameserver /m);
      expect(value(outcome, 'etc_owner')).toBe('65534'); // still the image's owner's, once written
    });

    it("resolv.conf: the host's nameservers; public ones when the host's is a loopback stub; never through an image's symlink", async () => {
      const outcome = await sandbox(String.raw`
        printf 'nameserver 192.0.2.53\nsearch example.org\n' >"$SANDBOX_DIR/resolv"; mount --bind "$SANDBOX_DIR/resolv" /etc/resolv.conf
        echo "plain=$(run cat /etc/resolv.conf 2>/dev/null | tr '\n' ' ')"
        printf 'nameserver 127.0.0.53\noptions edns0\n' >"$SANDBOX_DIR/resolv"
        echo "stub=$(run cat /etc/resolv.conf 2>/dev/null | tr '\n' ' ')"
        # an image whose resolv.conf leads to a file of the host's: that file is not written
        echo host-file >"$SANDBOX_DIR/victim"; ln -sfn "$SANDBOX_DIR/victim" "$CONTAINERFS/etc/resolv.conf"
        echo "symlinked=$(run head -1 /etc/resolv.conf 2>/dev/null)"; echo "victim=$(cat "$SANDBOX_DIR/victim")"`);
      expect(value(outcome, 'plain'), outcome.stderr).toBe('nameserver 192.0.2.53 search example.org ');
      expect(value(outcome, 'stub')).toBe('nameserver 8.8.8.8 nameserver 8.8.4.4 options edns0 ');
      expect(value(outcome, 'symlinked')).toBe('nameserver 8.8.8.8');
      expect(value(outcome, 'victim')).toBe('host-file');
    });

    // `nft flush ruleset` (or a restart of nftables) takes the course's table, not the bridge.
    it('a bridge whose table was flushed: refused in one line (never run open); clean removes the bridge', async () => {
      const outcome = await sandbox(String.raw`
        run true 2>/dev/null; nft flush ruleset
        run sh -c 'echo command-ran' 2>"$SANDBOX_DIR/e"; echo "status=$?"; echo "err=$(grep -v '^Running' "$SANDBOX_DIR/e")"
        node scripts/clean.ts | grep -c 'removed the bridge' | sed 's/^/cleaned=/'
        run true 2>/dev/null; echo "again=$?"`);
      expect(value(outcome, 'status'), outcome.stdout + outcome.stderr).toBe('125');
      expect(outcome.stdout).not.toContain('command-ran');
      expect(value(outcome, 'err')).toBe(
        'the bridge cfs0 has lost its nftables table container-from-scratch: stop its containers, then sudo npm run clean',
      );
      expect(value(outcome, 'cleaned')).toBe('1');
      expect(value(outcome, 'again')).toBe('0');
    });

    it('no nft on the machine: one line that says to install nftables, status 125, no bridge left', async () => {
      const outcome = await sandbox(String.raw`
        # A PATH with every program but nft: /usr/sbin's, less nft, and no /usr/sbin itself.
        mkdir "$SANDBOX_DIR/sbin"; for f in /usr/sbin/*; do [ "$(basename "$f")" = nft ] || ln -s "$f" "$SANDBOX_DIR/sbin/"; done
        PATH="$SANDBOX_DIR/sbin:$(dirname "$(command -v node)"):/usr/bin:/bin" run /bin/true 2>"$SANDBOX_DIR/e"; echo "status=$?"
        echo "err=$(grep -v '^Running' "$SANDBOX_DIR/e")"
        echo "bridge=$(ip -o link show cfs0 2>/dev/null | wc -l)"
        echo "left=$(gone)"`);
      expect(value(outcome, 'status'), outcome.stdout + outcome.stderr).toBe('125');
      expect(value(outcome, 'err')).toBe('nft: not found: install nftables (sudo apt-get install nftables)');
      expect(value(outcome, 'bridge')).toBe('0');
      expect(value(outcome, 'left')).toBe('');
    });
  });

  if (publishes) {
    describe.concurrent(`step ${step}: published ports`, () => {
      it('a published port answers from the world, from localhost, from another container (hairpin); the rules go with it', async () => {
        const outcome = await sandbox(String.raw`
          start -p 8080:80 -p 127.0.0.1:9090:80 sh -c "$SERVE"
          echo "world=$(world sh -c 'timeout ${5 * TIME_SCALE} busybox wget -q -O - http://203.0.113.1:8080/')"
          echo "localhost=$(page http://127.0.0.1:8080/)"
          echo "local_only=$(page http://127.0.0.1:9090/)"
          echo "local_only_from_world=$(world sh -c 'timeout ${5 * TIME_SCALE} busybox wget -q -O - http://203.0.113.1:9090/ 2>&1 | grep -c refused')"
          echo "rules=$(nft list chain ip container-from-scratch published | grep -c dnat)"
          run sh -c 'echo "hairpin=$(timeout ${5 * TIME_SCALE} wget -q -O - http://203.0.113.1:8080/)"'
          kill -TERM $runtime; wait $runtime; echo "status=$?"
          echo "left=$(gone)"`);
        expect(value(outcome, 'world'), outcome.stdout + outcome.stderr).toMatch(/^hello-from-container-demo-10\.201\.0\.\d+\/16$/);
        expect(value(outcome, 'localhost')).toBe(value(outcome, 'world'));
        expect(value(outcome, 'local_only')).toBe(value(outcome, 'world'));
        expect(value(outcome, 'local_only_from_world')).toBe('1');
        expect(value(outcome, 'rules')).toBe('2');
        expect(value(outcome, 'hairpin')).toBe(value(outcome, 'world'));
        expect(value(outcome, 'status')).toBe('143');
        expect(value(outcome, 'left')).toBe('');
      });

      // One line, status 125, the command never runs, nothing left: not a veth, a lease, a rule.
      // A learner runs the steps in order: step 12 made the bridge and its table, without
      // the chains of published ports, and the bridge stays. This step adds them, once.
      it('on a bridge an earlier step made: the chains of published ports are added to its table once', async () => {
        const before = bridgeSteps.filter((other) => !EXPECTED[other]!['publishes-port']).at(-1)!;
        const outcome = await sandbox(String.raw`
          node "$REPO/steps/${before}/main.ts" run true 2>/dev/null; echo "earlier=$?"
          start -p 8080:80 sh -c "$SERVE"
          echo "localhost=$(page http://127.0.0.1:8080/ | grep -c hello-from)"
          run -p 8081:80 true 2>/dev/null; echo "second=$?"
          echo "jumps=$(nft list chain ip container-from-scratch prerouting | grep -c 'jump published')"
          kill -TERM $runtime; wait $runtime
          node scripts/clean.ts >/dev/null; echo "table=$(nft list tables | grep -c container-from-scratch)"`);
        expect(value(outcome, 'earlier'), outcome.stdout + outcome.stderr).toBe('0');
        expect(value(outcome, 'localhost')).toBe('1');
        expect(value(outcome, 'second')).toBe('0');
        expect(value(outcome, 'jumps')).toBe('1');
        expect(value(outcome, 'table')).toBe('0');
      });

      it('a port already published, or busy on the host; held from programs started later; -p 80 picks one', async () => {
        const outcome = await sandbox(String.raw`
          start -p 8080:80 sh -c "$SERVE"
          echo "late_service=$(busybox nc -l -p 8080 </dev/null 2>&1)"
          run -p 8080:80 sh -c 'echo command-ran' 2>"$SANDBOX_DIR/e1"; echo "published=$?"; echo "published_err=$(grep -v '^Running' "$SANDBOX_DIR/e1")"
          busybox nc -l -p 7070 & server=$!
          wait_until 'the host program on 7070' listening 7070
          run -p 7070:80 sh -c 'echo command-ran' 2>"$SANDBOX_DIR/e2"; echo "busy=$?"; echo "busy_err=$(grep -v '^Running' "$SANDBOX_DIR/e2")"
          kill $server
          run -p 80 sh -c 'echo ran' 2>"$SANDBOX_DIR/e3"; echo "auto=$?"; echo "auto_err=$(grep -v '^Running' "$SANDBOX_DIR/e3")"
          kill -TERM $runtime; wait $runtime
          echo "left=$(gone)"
          echo "layers=$(ls "$CONTAINER_STATE/containers" 2>/dev/null | wc -l)"`);
        expect(outcome.stdout, outcome.stderr).not.toContain('command-ran');
        expect(value(outcome, 'published')).toBe('125');
        expect(value(outcome, 'published_err')).toBe('0.0.0.0:8080->80/tcp: port 8080/tcp is in use on this host');
        expect(value(outcome, 'late_service')).toBe('nc: bind: Address already in use'); // docker's proxy holds it too
        expect(value(outcome, 'busy')).toBe('125');
        expect(value(outcome, 'busy_err')).toBe('0.0.0.0:7070->80/tcp: port 7070/tcp is in use on this host');
        expect(value(outcome, 'auto')).toBe('0');
        expect(value(outcome, 'auto_err')).toBe('Published 0.0.0.0:32768->80/tcp');
        expect(value(outcome, 'left')).toBe('');
        expect(value(outcome, 'layers')).toBe('0');
      });

      it('the runtime killed with SIGKILL: its rules stay, its address waits; npm run clean removes them, then the bridge and table', async () => {
        const outcome = await sandbox(String.raw`
          start -p 8080:80 sh -c 'echo started; exec sleep 1000'
          kill -KILL $runtime; wait $runtime 2>/dev/null
          no_veth() { ! ip -o link show | grep -q ': cfs-'; }
          wait_until 'the veth pair to go' no_veth
          echo "after_kill=$(nft list chain ip container-from-scratch published | grep -c dnat)"
          run -p 8080:80 sh -c 'ip -4 -o addr show eth0 | awk "{print \"next=\" \$4}"' 2>/dev/null
          node scripts/clean.ts | grep -E 'removed the (rule|bridge|nftables)' | sed 's/^ */cleaned=/'
          echo "table=$(nft list tables | grep -c container-from-scratch)"
          echo "bridge=$(ip -o link show cfs0 2>/dev/null | wc -l)"
          echo "left=$(gone)"`);
        expect(value(outcome, 'after_kill'), outcome.stdout + outcome.stderr).toBe('1');
        expect(value(outcome, 'next')).toBe('10.201.0.3/16'); // not .2: rules may still send packets there
        expect(outcome.stdout.match(/^cleaned=.*/gm)).toEqual([
          expect.stringMatching(/^cleaned=removed the rule tcp dport 8080 dnat to 10\.201\.0\.2:80 comment "[0-9a-f]{12}"$/),
          'cleaned=removed the bridge cfs0',
          'cleaned=removed the nftables table ip container-from-scratch',
        ]);
        expect(value(outcome, 'table')).toBe('0');
        expect(value(outcome, 'bridge')).toBe('0');
        expect(value(outcome, 'left')).toBe('');
      });
    });
  }

  // Alone, after the others: twenty runtimes starting at once take every CPU there is,
  // and on an emulated machine the tests beside them would run out of time.
  // Only for the last step with a bridge: the twenty are the slowest test of all.
  if (step !== bridgeSteps.at(-1)) continue;
  describe(`step ${step}: a bridge, twenty containers`, () => {
    it('20 containers at once: 20 addresses, all reach the world; nothing left after', { timeout: 120_000 * TIME_SCALE }, async () => {
      const outcome = await sandbox(
        String.raw`
        # All alive at once: each waits, once it has said its address and what the world
        # answered, for its stdin to end, which it does once all twenty have spoken and
        # the sleeps that feed them are killed. (Not a loop polling a file: twenty of those
        # are a fork every few milliseconds, which starve an emulated machine.)
        for i in $(seq 20); do
          sleep 1001 |
            run sh -c 'echo "$(ip -4 -o addr show eth0 | awk "{print \$4}") $(timeout ${10 * TIME_SCALE} wget -q -O - http://203.0.113.2/)"; cat >/dev/null' >"$SANDBOX_DIR/out-$i" 2>"$SANDBOX_DIR/err-$i" &
        done
        all_spoke() { [ "$(cat "$SANDBOX_DIR"/out-* 2>/dev/null | wc -l)" -ge 20 ]; }
        wait_until -t 50 'all twenty to speak' all_spoke
        echo "alive=$(ip -o link show | grep -c ': cfs-')"; pkill -x -f 'sleep 1001'
        wait
        echo "reached=$(cat "$SANDBOX_DIR"/out-* | grep -c ' hello-from-world$')"
        echo "addresses=$(cut -d' ' -f1 "$SANDBOX_DIR"/out-* | sort -u | grep -c '^10\.201\.')"
        echo "errors=$(cat "$SANDBOX_DIR"/err-* | grep -vc '^Running')"
        echo "left=$(gone)"`,
        110_000,
      );
      expect(value(outcome, 'reached'), outcome.stdout + outcome.stderr).toBe('20');
      expect(value(outcome, 'alive')).toBe('20');
      expect(value(outcome, 'addresses')).toBe('20');
      expect(value(outcome, 'errors')).toBe('0');
      expect(value(outcome, 'left')).toBe('');
    });
  });
}
