#!/bin/busybox sh
# shellcheck shell=sh
# /init of the VM's initramfs (initramfs.ts builds it), the first program the kernel
# runs, as PID 1, from a root filesystem in RAM that holds only busybox and a few kernel
# modules. It makes this machine's own files the VM's root, then hands over to
# scripts/vm/init.sh. The kernel passes each name=value of its command line that it
# does not know itself to /init as an environment variable: CFS_PROJECT comes so.
set -u
/bin/busybox --install -s /bin
export PATH=/bin

say() { echo "cfs-vm: $*"; }
# PID 1 must not exit (the kernel panics): a failure powers the VM off, with one line.
die() {
  say "stage 1 failed: $*"
  poweroff -f
}

say "stage 1: the kernel runs /init"
mount -t proc proc /proc
mount -t devtmpfs dev /dev
while read -r module; do
  insmod "/modules/$module" || die "insmod $module"
done </modules/order

# The host's / (QEMU exports it read-only, tag "host") over virtio-9p. msize: 9p's
# largest message, the most virtio takes; cache=loose: the VM keeps what it read, as
# nothing on the host changes under it during a run.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose host /host || die "mount the host's / (9p)"
# What the VM writes goes to RAM: a tmpfs as the upper layer of an overlay on the host's
# files, which stay untouched. It all vanishes when the VM ends.
mount -t tmpfs -o mode=755 writes /writes || die "mount a tmpfs"
mkdir /writes/upper /writes/work
mount -t overlay -o lowerdir=/host,upperdir=/writes/upper,workdir=/writes/work root /newroot || die "mount the overlay"
mount --move /dev /newroot/dev
umount /proc
# switch_root empties this RAM filesystem, makes /newroot the root and execs stage 2.
[ -x "/newroot$CFS_PROJECT/scripts/vm/init.sh" ] || die "no $CFS_PROJECT/scripts/vm/init.sh on the host"
exec switch_root /newroot "$CFS_PROJECT/scripts/vm/init.sh"
