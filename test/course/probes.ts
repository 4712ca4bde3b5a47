// The isolation probes: each one asks a yes/no question about a step, by running the
// step in a sandbox host and looking at the result from outside. The tests and
// `npm run matrix` ask the same questions.
//
// A probe's script is bash, run in a fresh sandbox (see test/harness/sandbox.ts); `run <cmd>`
// runs the step under test. `observe` answers yes or no, and throws when the outcome
// fits neither answer, so a broken probe shows as broken, never as a quiet "no".
import { LIMIT_FLAGS } from '../../shared/runtime/flags.ts';
import { formatSize } from '../../shared/runtime/sizes.ts';
import { value } from '../harness/outcome.ts';
import { type Outcome, SANDBOX_HOSTNAME, TIME_SCALE } from '../harness/sandbox.ts';

// The default limits of steps 09+, and what the probes try: comfortably more.
const MEMORY = LIMIT_FLAGS.memory.default;
const MEMORY_TRIED = Math.ceil((MEMORY * 1.2) / 2 ** 20); // MiB
const PIDS = LIMIT_FLAGS.pids.default;
const PIDS_TRIED = PIDS * 2 + 40;

/**
 * Bash for the sandbox: the "outside world", a network namespace of its own at
 * 203.0.113.2 with a web server (its page says hello-from-world), joined to the sandbox
 * host (203.0.113.1) by a veth pair. It has no route back to the containers' networks:
 * a container reaches it only through the host's NAT. `world <cmd>` runs a command there.
 */
export const WORLD = String.raw`
ip netns add world
ip link add wv0 type veth peer name eth0 netns world
ip addr add 203.0.113.1/24 dev wv0; ip link set wv0 up
ip -n world addr add 203.0.113.2/24 dev eth0; ip -n world link set eth0 up; ip -n world link set lo up
mkdir -p "$SANDBOX_DIR/www"; echo hello-from-world >"$SANDBOX_DIR/www/index.html"
world() { ip netns exec world "$@"; }
world busybox httpd -p 80 -h "$SANDBOX_DIR/www"
world_serves() { local httpd; httpd=$(ip netns pids world | head -1) && [ -n "$httpd" ] && listening 80 "$httpd"; }
wait_until 'the world to serve' world_serves
`;

export interface Probe {
  claim: string;
  script: string;
  observe(outcome: Outcome): boolean;
}

class ProbeError extends Error {}

/** Find `key=value` in stdout and map the value to an answer. */
function answer(outcome: Outcome, key: string, judge: (said: string) => boolean | undefined): boolean {
  const said = value(outcome, key);
  const verdict = said === undefined ? undefined : judge(said);
  if (verdict === undefined) {
    throw new ProbeError(`no answer for ${key} (status ${outcome.status})\nstdout: ${outcome.stdout}\nstderr: ${outcome.stderr}`);
  }
  return verdict;
}

const count = (said: string) => (/^\d+$/.test(said) ? Number(said) > 0 : undefined);
const yesNo = (said: string) => (said === 'yes' ? true : said === 'no' ? false : undefined);
/** Yes if the value is `wanted`, no if it is another of its `shape`. */
const is = (wanted: string, shape: RegExp) => (said: string) => (shape.test(said) ? said === wanted : undefined);

/**
 * Shell for a container's `sh -c '...'` (so no single quote in it): `tried <key> <cmd...>`
 * runs the command and prints `<key>=<its status>` and `<key>-said=<what it said>`, on one line.
 */
const TRIED = String.raw`tried() { k=$1; shift; said=$("$@" 2>&1); echo "$k=$?"; echo "$k-said=$(printf %s "$said" | tr "\n" " ")"; }`;
// How a kernel says no to a call, or a write, it does not allow.
const REFUSED = /operation not permitted|permission denied|read-only file system/i;

/** What `tried <key>` printed: yes if the command succeeded, no if refused; anything else throws. */
function tried(outcome: Outcome, key: string): boolean {
  const status = value(outcome, key);
  if (status === '0') return true;
  if (status !== undefined && /^\d+$/.test(status) && REFUSED.test(value(outcome, `${key}-said`) ?? '')) return false;
  throw new ProbeError(`${key}: neither done nor refused (status ${outcome.status})\nstdout: ${outcome.stdout}\nstderr: ${outcome.stderr}`);
}

/** Two answers to one question (did it, and is it so): they must agree, else the probe is broken. */
function agree(outcome: Outcome, did: boolean, seen: boolean): boolean {
  if (did !== seen) throw new ProbeError(`done=${did} but seen=${seen}\nstdout: ${outcome.stdout}\nstderr: ${outcome.stderr}`);
  return did;
}

/**
 * A call that step 14 takes away, attempted by test/fixtures/attempt.c (/bin/attempt, or
 * the sandbox's copy by its host path before step 05): `<call>=yes` if the kernel's code
 * for it answered, `no` if refused before it; anything else (another errno) throws.
 * `refusing`: bash for the sandbox host, which prints why this kernel itself refuses the
 * call to root in a user namespace, if it does (a setting of the host's): then a no says
 * nothing of the step, and throws.
 */
function attempt(call: string, claim: string, refusing = ''): Probe {
  return {
    claim,
    script: `${refusing}
      run sh -c 'for p in "$0" /bin/attempt; do [ -x "$p" ] && exec "$p" ${call}; done; echo "${call}=no-attempt"' "$CONTAINERFS/bin/attempt"`,
    observe: (o) => {
      const answered = answer(o, call, yesNo);
      const kernel = value(o, 'kernel-refuses');
      if (!answered && kernel) throw new ProbeError(`no ${call}, but this kernel refuses it by itself: ${kernel}`);
      return answered;
    },
  };
}

/** `kernel-refuses=<why>` if the host's setting `knob` is not 0 (and `when`, bash, holds). */
const unlessSet = (knob: string, when = 'true') =>
  String.raw`k=$(cat /proc/sys/${knob.replaceAll('.', '/')} 2>/dev/null) && [ "$k" != 0 ] && ${when} && echo "kernel-refuses=${knob}=$k"`;
/** Bash: the running kernel is older than `version`. */
const before = (version: string) => String.raw`[ "$(printf '%s\n' ${version} "$(uname -r)" | sort -V | head -1)" != ${version} ]`;

export const PROBES = {
  'hostname-leaks': {
    claim: 'a hostname set inside changes the host',
    script: `run sh -c 'hostname leaked-name'; echo "host=$(hostname)"`,
    observe: (o) => answer(o, 'host', (v) => (v === 'leaked-name' ? true : v === SANDBOX_HOSTNAME ? false : undefined)),
  },
  'hostname-assigned': {
    claim: 'the container is named container-demo',
    script: `echo "name=$(run hostname)"`,
    observe: (o) => answer(o, 'name', (v) => (v === 'container-demo' ? true : v === SANDBOX_HOSTNAME ? false : undefined)),
  },
  'init-is-pid-1': {
    claim: "the command's parent is PID 1 of a new process tree",
    script: `run sh -c 'echo "ppid=$PPID"'`,
    observe: (o) => answer(o, 'ppid', (v) => (v === '1' ? true : /^\d+$/.test(v) ? false : undefined)),
  },
  'host-processes-visible': {
    claim: "the host's processes are visible inside",
    // A host process with a name to look for; [e] keeps grep from finding itself.
    script: String.raw`(exec -a cfs-host-marker sleep 60) &
      run sh -c 'echo "count=$(grep -l cfs-host-mark[e]r /proc/[0-9]*/cmdline 2>/dev/null | wc -l)"'`,
    observe: (o) => answer(o, 'count', count),
  },
  'host-files-visible': {
    claim: "the host's files are visible inside",
    script: `run sh -c 'test -e "$0" && echo seen=yes || echo seen=no' "$REPO/package.json"`,
    observe: (o) => answer(o, 'seen', yesNo),
  },
  'proc-mount-leaks': {
    claim: "the container's /proc mount stays on the host after exit",
    script: `run true; echo "count=$(awk -v d="$CONTAINERFS/proc" '$2 == d && $3 == "proc"' /proc/mounts | wc -l)"`,
    observe: (o) => answer(o, 'count', count),
  },
  'container-mount-leaks': {
    claim: 'a mount made inside the container appears on the host',
    // $0 is the host's $CONTAINERFS/tmp, which the steps with a root filesystem call /tmp.
    // From step 14 on, root inside may mount nothing: nothing to leak.
    script: String.raw`run sh -c '${TRIED}; d=/tmp; [ -d "$0" ] && d=$0; tried mounted mount -t tmpfs cfs-inner-mount "$d"' "$CONTAINERFS/tmp"
      echo "count=$(grep -c '^cfs-inner-mount ' /proc/mounts)"`,
    observe: (o) => tried(o, 'mounted') && answer(o, 'count', count),
  },
  'host-mounts-visible': {
    claim: 'a mount the host makes while the container runs shows up inside',
    // The container says it runs (stdout), the host mounts, then lets it look (stdin).
    // Through the container's stdio, not fifos in its root filesystem: from step 10 on
    // that is an overlay, and a fifo seen through an overlay is another pipe.
    script: String.raw`d="$SANDBOX_DIR"; mkdir "$CONTAINERFS/tmp/cfs-volume"; mkfifo "$d/to" "$d/from"
      run sh -c 'echo ready; read -r _; echo "count=$(grep -c "^cfs-host-mount " /proc/mounts)" >&2' <"$d/to" >"$d/from" 2>"$d/err" &
      exec 3>"$d/to"; read -r _ <"$d/from"
      mount -t tmpfs cfs-host-mount "$CONTAINERFS/tmp/cfs-volume"; echo >&3; exec 3>&-
      wait; grep '^count=' "$d/err"`,
    observe: (o) => answer(o, 'count', count),
  },
  'escape-reaches-host': {
    claim: "root inside reaches the host's files, escaping the chroot if there is one (escape-chroot)",
    // Before step 05 there is no chroot to escape (and no escape-chroot in sight).
    script: String.raw`run sh -c 'look="test -e $0 && echo reached=yes || echo reached=no"
      if [ -x /bin/escape-chroot ]; then escape-chroot sh -c "$look"; else sh -c "$look"; fi' "$REPO/package.json"`,
    observe: (o) => answer(o, 'reached', yesNo),
  },
  'host-ipc-visible': {
    claim: 'a System V IPC object made on the host is visible inside',
    script: String.raw`ipcmk -M 4242 >/dev/null
      run sh -c 'echo "count=$(awk "$0" /proc/sysvipc/shm | wc -l)"' '$4 == 4242'`,
    observe: (o) => answer(o, 'count', count),
  },
  'host-interfaces-visible': {
    claim: "the host's network interfaces are visible inside",
    script: String.raw`ip link add cfs-host0 type bridge
      run sh -c 'echo "count=$(grep -c cfs-host0: /proc/net/dev)"'`,
    observe: (o) => answer(o, 'count', count),
  },
  'loopback-up-alone': {
    claim: 'only a loopback interface exists inside, and it is up',
    // The sandbox host gets what a real host has: its lo up, and another interface.
    script: String.raw`ip link set lo up; ip link add cfs-host0 type bridge
      run sh -c 'echo "links=$(ip -o link show | wc -l),$(ip -o link show up | grep -c ": lo:")"'`,
    observe: (o) => answer(o, 'links', (v) => (/^\d+,\d+$/.test(v) ? v === '1,1' : undefined)),
  },
  'reaches-host': {
    claim: 'the container reaches the host over a network link of its own',
    // A TCP server on the host (the sandbox), on all its addresses; the container sends
    // it a line through its default gateway, if it has one. Before step 07 the
    // container shares the host's network, which here has no gateway: a real host's
    // would be a router, not the host itself.
    // (Its stdin never ends: at its end nc would close its side, and the container's nc,
    // told so before it sent, would leave without sending.)
    script: String.raw`sleep 1000 | busybox nc -l -p 7777 >"$SANDBOX_DIR/got" &
      wait_until 'the host to listen on 7777' listening 7777
      run sh -c 'gw=$(ip route | sed -n "s/^default via \([0-9.]*\).*/\1/p"); echo "gateway=$gw"
        [ -z "$gw" ] || { echo hello-host | nc -w ${5 * TIME_SCALE} "$gw" 7777; echo "sent=$?"; }' | tee "$SANDBOX_DIR/ran"
      # The server writes what it got in its own time (longer on a busy machine).
      if grep -q '^sent=0' "$SANDBOX_DIR/ran"; then wait_until 'the line to reach the host' has hello-host "$SANDBOX_DIR/got"; fi
      echo "reached=$(grep -c hello-host "$SANDBOX_DIR/got")"`,
    observe: (o) => {
      const reached = answer(o, 'reached', count);
      if (!reached && answer(o, 'gateway', (v) => v !== ''))
        throw new ProbeError(`a gateway, not reached\nstdout: ${o.stdout}\nstderr: ${o.stderr}`);
      return reached;
    },
  },
  'reaches-world': {
    claim: 'the container reaches the outside world (a web server beyond the host)',
    // 01-06 share the host's network: they reach what it reaches. 07-11 have no route
    // beyond the host; 12 goes through the host's NAT.
    script: String.raw`${WORLD}
      run sh -c 'timeout ${5 * TIME_SCALE} wget -q -O - http://203.0.113.2/ 2>/dev/null' | tee "$SANDBOX_DIR/got"
      echo "reached=$(grep -c hello-from-world "$SANDBOX_DIR/got")"`,
    observe: (o) => answer(o, 'reached', count),
  },
  'reaches-other-container': {
    claim: 'a container reaches another by its address',
    // The first says its address on eth0 (none: it has no link of its own, as 01-10)
    // and listens, which the host sees in its network (/proc/<pid>/net); the second sends
    // it a line, and once sent, the host waits for it on the first's stdout. The first's
    // stdin stays open (a fifo): at its end nc would close its side of the connection,
    // and the second's nc, told so before it sent, would leave without sending.
    script: String.raw`mkfifo "$SANDBOX_DIR/hold"
      node "$REPO/steps/$STEP/main.ts" run sh -c 'a=$(ip -4 -o addr show eth0 2>/dev/null | awk "{print \$4}" | cut -d/ -f1)
        echo "address=$a"; [ -z "$a" ] || exec nc -l -p 7000' <"$SANDBOX_DIR/hold" >"$SANDBOX_DIR/first" 2>"$SANDBOX_DIR/first-err" & first=$!
      exec 3>"$SANDBOX_DIR/hold"
      wait_until 'the first container to say its address' has '^address=' "$SANDBOX_DIR/first"
      a=$(sed -n 's/^address=//p' "$SANDBOX_DIR/first")
      first_listens() { local nc; nc=$(pgrep -f '^nc -l -p 7000$') && listening 7000 "$nc"; }
      if [ -n "$a" ] && wait_until 'the first container to listen' first_listens; then
        run sh -c 'echo hello-neighbour | nc -w ${2 * TIME_SCALE} "$0" 7000' "$a" 2>"$SANDBOX_DIR/second-err" &&
          wait_until 'the line to reach the first container' has hello-neighbour "$SANDBOX_DIR/first"
        echo "second=$?"; grep -v '^Running' "$SANDBOX_DIR/second-err"
      fi
      kill $first 2>/dev/null; wait $first; echo "address=$a"; echo "reached=$(grep -c hello-neighbour "$SANDBOX_DIR/first")"`,
    observe: (o) => {
      const reached = answer(o, 'reached', count);
      if (!reached && answer(o, 'address', (v) => v !== '') && /^address=10\.201\./m.test(o.stdout))
        throw new ProbeError(`an address on the bridge, not reached\nstdout: ${o.stdout}\nstderr: ${o.stderr}`);
      return reached;
    },
  },
  'publishes-port': {
    claim: "a port published with -p 8080:80 reaches the container's server from another machine",
    // The world asks the host's address; steps without -p take it for the command.
    script: String.raw`${WORLD}
      node "$REPO/steps/$STEP/main.ts" run -p 8080:80 sh -c 'echo hello-inside >/tmp/index.html; httpd -p 80 -h /tmp && echo serving && exec sleep 1000' >"$SANDBOX_DIR/out" 2>/dev/null & r=$!
      serving_or_ended() { has serving "$SANDBOX_DIR/out" || ended $r; }
      wait_until 'the container to serve' serving_or_ended
      world timeout ${5 * TIME_SCALE} busybox wget -q -O - http://203.0.113.1:8080/ 2>/dev/null | tee "$SANDBOX_DIR/got"
      kill $r 2>/dev/null; wait $r
      echo "reached=$(grep -c hello-inside "$SANDBOX_DIR/got")"`,
    observe: (o) => answer(o, 'reached', count),
  },
  'types-into-terminal': {
    claim: "the container types into the caller's terminal, whose shell then runs it (TIOCSTI)",
    // The caller: bash on a terminal (script's pty), which runs the step, then reads a
    // line from its terminal; the container pushes one into it, if it can. Pushed keys
    // are there before the step ends: read's 2 s (scaled) only bound the wait for none.
    script: String.raw`cat >"$SANDBOX_DIR/caller.sh" <<'CALLER'
node "$REPO/steps/$STEP/main.ts" run sh -c 'for p in /bin/tiocsti "$0"; do [ -x "$p" ] && exec "$p"; done' "$CONTAINERFS/bin/tiocsti" 2>/dev/null
echo "pushed=$?"
read -r -t ${2 * TIME_SCALE} line; echo "after=$line"
CALLER
      mkfifo "$SANDBOX_DIR/keys"
      script -qefc "bash --norc $SANDBOX_DIR/caller.sh" /dev/null <"$SANDBOX_DIR/keys" >"$SANDBOX_DIR/screen" 2>&1 &
      term=$!; exec 3>"$SANDBOX_DIR/keys"; wait $term; exec 3>&-
      tr -d '\r' <"$SANDBOX_DIR/screen" | grep -a -E '^(pushed|after)='`,
    observe: (o) => answer(o, 'after', (v) => (v === 'echo typed-by-the-container' ? true : v === '' ? false : undefined)),
  },
  'root-writes-host-files': {
    claim: 'root inside can change a file that root owns on the host',
    script: String.raw`f="$CONTAINERFS/etc/cfs-host-owned"; echo host >"$f"
      run sh -c 'f=/etc/cfs-host-owned; [ -e "$0" ] && f=$0; echo tried=yes; echo container >>"$f"' "$f"
      echo "changed=$(grep -c container "$f")"`,
    observe: (o) => answer(o, 'tried', yesNo) && answer(o, 'changed', count),
  },
  'root-is-host-root': {
    claim: 'root inside is root on the host (uid 0 maps to uid 0)',
    script: String.raw`run sh -c 'read -r inside outside _ </proc/self/uid_map; echo "uid0=$(id -u):$inside:$outside"'`,
    observe: (o) => answer(o, 'uid0', (v) => (/^0:0:\d+$/.test(v) ? v === '0:0:0' : undefined)),
  },
  'runs-rootless': {
    claim: 'a normal user can run it (rootless)',
    script: String.raw`as_normal_user env NODE_COMPILE_CACHE= \
        node "steps/$STEP/main.ts" run sh -c 'echo ran=yes'; echo "status=$?"`,
    observe: (o) => {
      if (/^ran=yes$/m.test(o.stdout) && /^status=0$/m.test(o.stdout)) return true;
      if (/^status=125$/m.test(o.stdout) && !/^ran=/m.test(o.stdout)) return false;
      throw new ProbeError(`no answer\nstdout: ${o.stdout}\nstderr: ${o.stderr}`);
    },
  },
  'exit-status': {
    claim: "the command's exit status is the runtime's (128+N for signal N)",
    script: `run sh -c 'exit 42'; a=$?; run sh -c 'kill -TERM $$'; echo "statuses=$a,$?"`,
    observe: (o) => answer(o, 'statuses', (v) => v === '42,143'),
  },
  'stdout-stderr-separate': {
    claim: "the command's stdout and stderr stay separate",
    script: String.raw`err=$(mktemp -p "$SANDBOX_DIR")
      out=$(run sh -c 'echo to-out; echo to-err >&2' 2>"$err")
      grep -qx to-err "$err" && ! grep -qx to-out "$err" && [ "$out" = to-out ] && echo separate=yes || echo separate=no`,
    observe: (o) => answer(o, 'separate', yesNo),
  },
  'stdin-passed': {
    claim: "the command reads the runtime's stdin",
    script: `echo "read=$(echo piped-in | run cat)"`,
    observe: (o) => answer(o, 'read', (v) => v === 'piped-in'),
  },
  'own-cgroup': {
    claim: 'the container is in a cgroup of its own (its /proc/self/cgroup names it)',
    script: `run cat /proc/self/cgroup`,
    observe: (o) => {
      if (!/^\d+:[\w,=]*:\//m.test(o.stdout)) throw new ProbeError(`no /proc/self/cgroup (status ${o.status})\nstderr: ${o.stderr}`);
      return /:\/container-from-scratch\/([\w.-]+\/)*[0-9a-f]{12}$/m.test(o.stdout);
    },
  },
  'memory-limited': {
    claim: `a process that takes more memory than the limit (${formatSize(MEMORY)} by default) is killed`,
    // dd reads N MiB of zeros in one block: a buffer of N MiB, every page touched.
    script: `run sh -c 'dd if=/dev/zero of=/dev/null bs=${MEMORY_TRIED}M count=1 2>/dev/null; echo "dd=$?"'; echo "status=$?"`,
    // The OOM killer may pick the container's PID 1 (node) instead: then the whole
    // container ends, with 137 and the runtime's line.
    observe: (o) => {
      if (/^dd=0$/m.test(o.stdout)) return false;
      if (/^dd=137$/m.test(o.stdout) || (/^status=137$/m.test(o.stdout) && o.stderr.includes('out of memory'))) return true;
      throw new ProbeError(`neither finished nor killed\nstdout: ${o.stdout}\nstderr: ${o.stderr}`);
    },
  },
  'pids-limited': {
    claim: `the number of processes is limited (${PIDS} by default): a fork flood stops`,
    script: `run sh -c 'i=0; while [ $i -lt ${PIDS_TRIED} ]; do sleep 10 & i=$((i+1)); done; echo "forks=$i"'; echo "status=$?"`,
    observe: (o) => {
      if (new RegExp(`^forks=${PIDS_TRIED}$`, 'm').test(o.stdout)) return false;
      if (o.stderr.includes("can't fork") && !/^forks=/m.test(o.stdout)) return true;
      throw new ProbeError(`no answer\nstdout: ${o.stdout}\nstderr: ${o.stderr}`);
    },
  },
  'writes-reach-rootfs': {
    claim: 'what the container writes lands in the shared root filesystem',
    // Steps without a root filesystem of their own write the sandbox's copy by its
    // host path; the others cannot see that path, and write their own /.
    // /tmp: from step 08 on, root in the container may write nowhere else.
    script: String.raw`run sh -c 'echo x 2>/dev/null >"$0/tmp/probe-file" || echo x >/tmp/probe-file' "$CONTAINERFS"
      test -e "$CONTAINERFS/tmp/probe-file" && echo written=yes || echo written=no`,
    observe: (o) => answer(o, 'written', yesNo),
  },
  // What root in the container may do to the kernel it shares with the host: all of it
  // until step 14, which keeps 14 capabilities and filters the calls (seccomp).
  'mounts-filesystem': {
    claim: 'root inside mounts a filesystem',
    // $0 is the host's $CONTAINERFS/tmp, which the steps with a root filesystem call /tmp.
    script: String.raw`run sh -c '${TRIED}; d=/tmp; [ -d "$0" ] && d=$0; tried mounted mount -t tmpfs cfs-probe-mount "$d"
      echo "seen=$(grep -c "^cfs-probe-mount " /proc/mounts)"' "$CONTAINERFS/tmp"`,
    observe: (o) => agree(o, tried(o, 'mounted'), answer(o, 'seen', count)),
  },
  'makes-user-namespace': {
    claim: 'root inside makes a user namespace (unshare -U)',
    // 05: the kernel makes none for a chrooted process (with one, it could leave the chroot).
    script: String.raw`run sh -c '${TRIED}; tried made unshare -U true'`,
    observe: (o) => tried(o, 'made'),
  },
  'makes-mount-namespace': {
    claim: 'root inside makes a mount namespace (unshare -m)',
    // Busybox's unshare then makes the new namespace's mounts private, from /, which in
    // step 05's chroot is no mount point: that mount fails (EINVAL), the namespace is made.
    script: String.raw`run sh -c '${TRIED}; tried made unshare -m true'`,
    observe: (o) => /^unshare: can't mount none on \/ .*Invalid argument/.test(value(o, 'made-said') ?? '') || tried(o, 'made'),
  },
  'renames-host': {
    claim: 'root inside sets the hostname (whichever host it names)',
    script: String.raw`run sh -c '${TRIED}; tried renamed hostname cfs-renamed; echo "name=$(hostname)"'`,
    observe: (o) => agree(o, tried(o, 'renamed'), answer(o, 'name', is('cfs-renamed', /./))),
  },
  'reconfigures-link': {
    claim: "root inside reconfigures a network interface (lo's MTU)",
    script: String.raw`run sh -c '${TRIED}; tried changed ip link set lo mtu 1280; echo "mtu=$(ip link show lo | grep -o "mtu [0-9]*")"'`,
    observe: (o) => agree(o, tried(o, 'changed'), answer(o, 'mtu', is('mtu 1280', /^mtu \d+$/))),
  },
  'calls-keyctl': attempt('keyctl', "the kernel's keyring calls answer (add_key)"),
  // Before Linux 6.5, kernel.unprivileged_bpf_disabled (2 by default on Debian and Ubuntu)
  // refused every bpf() command to all but the host's root (so in 08-13 too); since, only
  // making maps and loading programs.
  'calls-bpf': attempt('bpf', 'the bpf call answers', unlessSet('kernel.unprivileged_bpf_disabled', before('6.5'))),
  'calls-userfaultfd': attempt('userfaultfd', 'the userfaultfd call answers'),
  // Linux 6.6+: kernel.io_uring_disabled, 1 or 2, refuses it to some or all.
  'calls-io-uring': attempt('io_uring', 'the io_uring calls answer (io_uring_setup)', unlessSet('kernel.io_uring_disabled')),
  'calls-perf-event-open': attempt('perf_event_open', 'the perf_event_open call answers'),
  'writes-sysctl': {
    claim: "root inside changes a kernel setting (its network's, in /proc/sys)",
    // Before step 07 the network, and so the setting, is the sandbox host's.
    script: String.raw`run sh -c '${TRIED}; f=/proc/sys/net/ipv4/ip_default_ttl; tried wrote sh -c "echo 63 >$f"; echo "ttl=$(cat $f)"'`,
    observe: (o) => agree(o, tried(o, 'wrote'), answer(o, 'ttl', is('63', /^\d+$/))),
  },
  'reads-masked-proc': {
    claim: "the host's interrupt counts are readable inside (/proc/interrupts)",
    // Of the files docker masks, one that every kernel has and that root in a user
    // namespace (08+) may read: /proc/timer_list is mode 0400, the host's root's. 14: /dev/null.
    script: String.raw`run sh -c 'echo "lines=$(grep -c CPU0 /proc/interrupts)"'`,
    observe: (o) => answer(o, 'lines', count),
  },
  'sees-runtime-env': {
    claim: "the runtime's environment (its variables) is the command's",
    script: String.raw`export CFS_RUNTIME_SECRET=from-the-runtime
      run sh -c 'echo "secret=$CFS_RUNTIME_SECRET"'`,
    observe: (o) => answer(o, 'secret', is('from-the-runtime', /^(from-the-runtime)?$/)),
  },
} satisfies Record<string, Probe>;

export type ProbeId = keyof typeof PROBES;
