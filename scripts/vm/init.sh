#!/usr/bin/env bash
# The VM's init, PID 1 after initramfs-init.sh's switch_root, on this machine's own
# userland (read-only, writes in RAM). It mounts what a Linux system has, makes cgroup v2
# the one cgroup tree, as on the course VM, runs the tests, writes their statuses to
# the results folder that QEMU shares with scripts/test-vm.ts, and powers off.
set -u
cd "$CFS_PROJECT" || exit
export PATH="$CFS_PROJECT/node_modules/.bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME=/root
say() { echo "cfs-vm: $*"; }
# busybox's poweroff -f: the reboot(2) system call itself (Debian's poweroff asks systemd).
halt() {
  busybox poweroff -f
  sleep 60 # PID 1 must not exit: the kernel would panic
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
# A fresh /tmp, as a booted machine has; a project checked out under /tmp (a CI's clone,
# say) is carried over: held at /mnt while the tmpfs goes on, then put back in place.
case "$CFS_PROJECT" in
/tmp/*)
  mount --bind "$CFS_PROJECT" /mnt
  mount -t tmpfs -o mode=1777 tmp /tmp
  mkdir -p "$CFS_PROJECT"
  mount --move /mnt "$CFS_PROJECT"
  cd "$CFS_PROJECT" || exit
  ;;
*) mount -t tmpfs -o mode=1777 tmp /tmp ;;
esac
mount -t tmpfs -o mode=755 run /run
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
mkdir /run/results
mount -t 9p -o trans=virtio,version=9p2000.L results /run/results || halt
# report <what> <status>: one line for scripts/test-vm.ts, with the seconds since the last
report() {
  echo "$1 $2 $((SECONDS - since))" >>/run/results/status
  since=$SECONDS
}
since=$SECONDS

# cgroup v2, alone: cgroup_no_v1=all (the kernel's command line) keeps every controller
# out of v1. A controller reaches a child cgroup only if its parent lists it in
# cgroup.subtree_control, and the root lists none at boot: on the course VM, systemd
# turns them on. Here we do, as systemd does.
mount -t cgroup2 cgroup2 /sys/fs/cgroup
echo '+memory +pids +cpu' >/sys/fs/cgroup/cgroup.subtree_control || say "cgroup v2: cannot enable memory, pids, cpu"
# The kernel loads a module it lacks (veth, for step 11) by running /sbin/modprobe, which
# looks in /lib/modules/$(uname -r): this machine has none for the VM's kernel. The
# cache has them, indexed by depmod (scripts/vm/kernel.ts).
mkdir -p /lib/modules
ln -s "$CFS_PROJECT/node_modules/.cache/vm/kernel/lib/modules/$(uname -r)" "/lib/modules/$(uname -r)"
ip link set lo up
hostname vm
# The kernel's own lines (an OOM kill's report, say) would cut into the tests' output.
dmesg -n 1

say "stage 2: the VM runs $(uname -r); /sys/fs/cgroup is $(stat -fc %T /sys/fs/cgroup); subtree_control: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
report kernel "$(uname -r)/$(stat -fc %T /sys/fs/cgroup)"

# What this kernel (6.1, cgroup v2 alone) changes for the course, and nothing else:
#  - the cgroup suite of the steps that make cgroups (09 on: 14 runs its filter on 6.1 too):
#    step 09's v2 path, which on the host's hybrid layout only the "cgroup v2 alone"
#    test takes, without limits;
#  - step 15's limits, in the cgroup an engine names (shared/oci/cgroups.ts: v2's files);
#  - the overlay suite of step 10: overlayfs in a user namespace on 6.1 is not the host's
#    6.18 (steps 11-13 use the same code, so step 10 answers for them);
#  - the matrix's cgroup rows, steps 09-12: a cgroup of its own, the memory and pids
#    limits, and rootless (it changes at 09: cgroups need root);
#  - scripts/vm/limits.sh: the three limits, as the kernel enforces them.
# Everything else (isolation, signals, veth, the bridge, pull, user namespaces, bad
# input, the course pages...) is the host's run: namespaces, networking and the
# registry do not depend on which cgroup layout the kernel has, and the host's
# `npm test` runs them all. vitest says each test as it ends (verbose) and counts them
# for scripts/test-vm.ts (json). Through cat: the console is a terminal, on which
# vitest and the matrix would redraw their lines.
say "the suite: vitest run --project system, cgroups of steps 09 on (15: the OCI runtime), overlay of step 10"
set -o pipefail
vitest run --project system --configLoader runner -t 'step (09|1[0-9])-[a-z0-9-]+: cgroup|step 10-overlay: ' \
  test/features/cgroups.test.ts test/features/overlay.test.ts test/oci/runtime.test.ts \
  --reporter verbose --hideSkippedTests --reporter json --outputFile.json /run/results/suite.json 2>&1 | cat
report suite $?
say "npm run matrix, the cgroup rows of steps 09-12"
node --run matrix -- --steps 9,10,11,12 --probes own-cgroup,memory-limited,pids-limited,runs-rootless 2>&1 | cat
report matrix $?
say "the limits, enforced (scripts/vm/limits.sh)"
bash scripts/vm/limits.sh
report limits $?

umount /run/results
halt
