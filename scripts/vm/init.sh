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

# The feature tests of steps 09 and later (cgroups, overlay, veth, user namespaces), then
# the matrix: every isolation probe against every step, the same probes (and verdicts)
# as test/isolation.test.ts, which is why that file is not run as well. vitest says each
# test as it ends (verbose) and counts them for scripts/test-vm.ts (json). Through cat:
# the console is a terminal, on which vitest and the matrix would redraw their lines.
say "the suite: vitest run --project system test/features/, steps 09+"
set -o pipefail
vitest run --project system --configLoader runner -t 'step (09|1[0-9])' test/features/ \
  --reporter verbose --hideSkippedTests --reporter json --outputFile.json /run/results/suite.json 2>&1 | cat
report suite $?
say "npm run matrix"
node --run matrix 2>&1 | cat
report matrix $?
say "the limits, enforced (scripts/vm/limits.sh)"
bash scripts/vm/limits.sh
report limits $?

umount /run/results
halt
