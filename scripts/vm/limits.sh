#!/usr/bin/env bash
# Inside the VM only (scripts/vm/init.sh runs it): step 09's three limits, as the kernel
# enforces them on cgroup v2. Each check prints one line with what it measured; the
# script's status is how many failed. Never run a step on a machine you care about.
set -u
cd "$(dirname "$0")/../.." || exit
step() { node steps/09-cgroups/main.ts run "$@"; }
# The container's cgroup (the only one: nothing else runs), once the runtime made it.
wait_for_cgroup() {
  for _ in $(seq 300); do
    for dir in /sys/fs/cgroup/container-from-scratch/*/; do [ -d "$dir" ] && return; done
    sleep 0.1
  done
}
failed=0
# report <status of the check> <what it measured>
report() {
  if [ "$1" -eq 0 ]; then echo "ok    $2"; else echo "FAIL  $2"; failed=$((failed + 1)); fi
}
out=$(mktemp -d)

# memory.max: 300 MiB for tail to hold, under a 64 MiB limit. The OOM killer kills the
# container, and the runtime says so (it counts oom_kill in memory.events).
step --memory 64m sh -c 'head -c 300m /dev/zero | tail' >"$out/oom.out" 2>"$out/oom.err"
status=$?
line=$(grep -x 'container killed: out of memory (limit 64 MiB)' "$out/oom.err")
[ "$status" = 137 ] && [ -n "$line" ]
report $? "memory.max 64 MiB: status $status, '${line:-no OOM line}', $(wc -c <"$out/oom.out") bytes out"

# pids.max: a fork bomb under --pids 32 (and ulimit -u, a net under the net).
(ulimit -u 400 && step --pids 32 sh -c 'bomb() { bomb | bomb & }; bomb & exec sleep 60') 2>/dev/null &
runtime=$!
wait_for_cgroup
# until the kernel has refused a fork (emulated CPUs take a while to fork 32 times), 60 s at most
for _ in $(seq 600); do
  refused=$(sed -n 's/^max //p' "$dir/pids.events")
  [ "${refused:-0}" -gt 0 ] && break
  sleep 0.1
done
current=$(cat "$dir/pids.current")
kill -TERM $runtime
wait $runtime
[ "${current:-99}" -le 32 ] && [ "${refused:-0}" -gt 0 ]
report $? "pids.max 32: the fork bomb reached pids.current ${current:-?}, ${refused:-?} forks refused (pids.events max)"

# cpu.max: a busy loop for 2 s under --cpus 0.2 (20 ms of every 100 ms) gets 0.4 s of
# CPU, +-20%. `times`, second line: the CPU time of the shell's children, "0m0.40s 0m0.00s".
step --cpus 0.2 sh -c 'timeout 2 sh -c "while :; do :; done"; times' >"$out/cpu.out" 2>/dev/null &
runtime=$!
wait_for_cgroup
sleep 1.5
throttled=$(sed -n 's/^nr_throttled //p' "$dir/cpu.stat")
wait $runtime
cpu=$(sed -n 2p "$out/cpu.out" | awk '{ gsub(/[ms]/, " "); print $1 * 60 + $2 + $3 * 60 + $4 }')
awk -v t="${cpu:-0}" 'BEGIN { exit !(t >= 0.32 && t <= 0.48) }'
report $? "cpu.max 0.2 CPU: a 2 s busy loop got ${cpu:-?} s of CPU (0.4 s +-20%), throttled ${throttled:-?} times"

rm -rf "$out"
exit $failed
