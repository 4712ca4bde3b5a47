#!/usr/bin/env bash
# Inside the VM only (scripts/vm/init.sh runs it): step 09's three limits, as the kernel
# enforces them on cgroup v2. Each check prints one line with what it measured; the
# script's status is how many failed. Never run a step on a machine you care about.
# Events are ordered by waiting on state (test/harness/wait.sh: wait_until), never on time.
# shellcheck disable=SC2317 # the conditions below are called by wait_until
set -u
cd "$(dirname "$0")/../.." || exit
# wait_until: waits on state, as long as CFS_TEST_TIME_SCALE allows (the VM's kernel
# command line passes it)
# shellcheck source=/dev/null
source test/harness/wait.sh
step() { node steps/09-cgroups/main.ts run "$@"; }
# The container's cgroup, $dir (the only one: nothing else runs), once the runtime made it.
dir=
cgroup_made() {
  for dir in /sys/fs/cgroup/container-from-scratch/*/; do [ -d "$dir" ] && return; done
  return 1
}
failed=0
# report <status of the check> <what it measured>
report() {
  if [ "$1" -eq 0 ]; then echo "ok    $2"; else echo "FAIL  $2"; failed=$((failed + 1)); fi
}
out=$(mktemp -d)

# memory.max: one read of 300 MiB into dd's buffer, under a 64 MiB limit (at once, as the
# matrix's memory probe: a buffer that grows slowly made the VM reclaim for minutes). The
# OOM killer kills the container, and the runtime says so (oom_kill in memory.events).
step --memory 64m sh -c 'dd if=/dev/zero of=/dev/null bs=300M count=1 2>/dev/null' >"$out/oom.out" 2>"$out/oom.err"
status=$?
line=$(grep -x 'container killed: out of memory (limit 64 MiB)' "$out/oom.err")
[ "$status" = 137 ] && [ -n "$line" ]
report $? "memory.max 64 MiB: status $status, '${line:-no OOM line}', $(wc -c <"$out/oom.out") bytes out"

# pids.max: a fork bomb under --pids 32 (and ulimit -u, a net under the net).
(ulimit -u 400 && step --pids 32 sh -c 'bomb() { bomb | bomb & }; bomb & exec sleep 60') 2>/dev/null &
runtime=$!
wait_until "the container's cgroup" cgroup_made
# until the kernel has refused a fork (emulated CPUs take a while to fork 32 times)
fork_refused() {
  refused=$(sed -n 's/^max //p' "$dir/pids.events" 2>/dev/null)
  [ "${refused:-0}" -gt 0 ]
}
wait_until "a fork refused (pids.events max)" fork_refused
current=$(cat "$dir/pids.current")
kill -TERM $runtime
wait $runtime
[ "${current:-99}" -le 32 ] && [ "${refused:-0}" -gt 0 ]
report $? "pids.max 32: the fork bomb reached pids.current ${current:-?}, ${refused:-?} forks refused (pids.events max)"

# cpu.max: a busy loop for 2 s under --cpus 0.2 (20 ms of every 100 ms) gets 0.4 s of
# CPU (-20%, +50%: below), and the kernel throttled it. `times`, second line: the CPU time of the
# shell's children, "0m0.40s 0m0.00s". Then the container sleeps, its cgroup kept: once
# times has printed both lines, the loop is over and cpu.stat's nr_throttled is read.
step --cpus 0.2 sh -c 'timeout 2 sh -c "while :; do :; done"; times; exec sleep 60' >"$out/cpu.out" 2>/dev/null &
runtime=$!
wait_until "the container's cgroup" cgroup_made
loop_over() { [ "$(wc -l <"$out/cpu.out")" -ge 2 ]; }
wait_until "the busy loop's end (the two lines of times)" loop_over
throttled=$(sed -n 's/^nr_throttled //p' "$dir/cpu.stat")
kill -TERM $runtime
wait $runtime
cpu=$(sed -n 2p "$out/cpu.out" | awk '{ gsub(/[ms]/, " "); print $1 * 60 + $2 + $3 * 60 + $4 }')
# Up to +50%: under QEMU's emulation the kernel sees a period's quota spent only at its next
# timer tick, so each period may run over (seen: 0.54 s, throttled 78 times). Unthrottled,
# the loop would get 2 s.
awk -v t="${cpu:-0}" 'BEGIN { exit !(t >= 0.32 && t <= 0.6) }' && [ "${throttled:-0}" -gt 0 ]
report $? "cpu.max 0.2 CPU: a 2 s busy loop got ${cpu:-?} s of CPU (0.4 s, -20% +50%), throttled ${throttled:-?} times"

rm -rf "$out"
exit $failed
