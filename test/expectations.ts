// What each step is meant to isolate: the course as a table. Every step states every
// claim, so each claim is checked both ways (01 leaks the hostname, 02 must not).
import type { ProbeId } from './probes.ts';

export const STEPS = ['01-run', '02-uts', '03-hostname', '04-pid', '05-chroot-proc', '06-mount-ns', '07-ipc-net', '08-user', '09-cgroups', '10-overlay', '11-veth'] as const;
export type Step = (typeof STEPS)[number];

const always = { 'exit-status': true, 'stdout-stderr-separate': true, 'stdin-passed': true } as const;
// Before step 09 nothing limits what a container uses, and before step 10 it writes
// straight into the one root filesystem.
const noLimits = { 'own-cgroup': false, 'memory-limited': false, 'pids-limited': false } as const;
const limits = { 'own-cgroup': true, 'memory-limited': true, 'pids-limited': true } as const;
// Before step 06 the container shares the host's mount table, IPC objects, network
// and users (and can climb out of its chroot).
const hostMountsIpcNetUsers = {
  'container-mount-leaks': true,
  'host-mounts-visible': true,
  'escape-reaches-host': true,
  'host-ipc-visible': true,
  'host-interfaces-visible': true,
  'loopback-up-alone': false,
  'reaches-host': false, // it shares the host's network: no link of its own
  'root-writes-host-files': true,
  'root-is-host-root': true,
} as const;
// From step 08 on, every namespace the article lists is the container's own.
const ownMountsIpcNetUsers = {
  'container-mount-leaks': false,
  'host-mounts-visible': false,
  'escape-reaches-host': false,
  'host-ipc-visible': false,
  'host-interfaces-visible': false,
  'loopback-up-alone': true,
  'reaches-host': false, // only `lo` until step 11
  'root-writes-host-files': false,
  'root-is-host-root': false,
} as const;

export const EXPECTED: Record<Step, Record<ProbeId, boolean>> = {
  '01-run': {
    'hostname-leaks': true,
    'hostname-assigned': false,
    'init-is-pid-1': false,
    'host-processes-visible': true,
    'host-files-visible': true,
    'proc-mount-leaks': false,
    'writes-reach-rootfs': true,
    ...noLimits,
    ...hostMountsIpcNetUsers,
    'runs-rootless': true, // nothing to unshare: no privilege needed
    ...always,
  },
  '02-uts': {
    'hostname-leaks': false,
    'hostname-assigned': false,
    'init-is-pid-1': false,
    'host-processes-visible': true,
    'host-files-visible': true,
    'proc-mount-leaks': false,
    'writes-reach-rootfs': true,
    ...noLimits,
    ...hostMountsIpcNetUsers,
    'runs-rootless': false,
    ...always,
  },
  '03-hostname': {
    'hostname-leaks': false,
    'hostname-assigned': true,
    'init-is-pid-1': false,
    'host-processes-visible': true,
    'host-files-visible': true,
    'proc-mount-leaks': false,
    'writes-reach-rootfs': true,
    ...noLimits,
    ...hostMountsIpcNetUsers,
    'runs-rootless': false,
    ...always,
  },
  '04-pid': {
    'hostname-leaks': false,
    'hostname-assigned': true,
    'init-is-pid-1': true,
    'host-processes-visible': true, // /proc is still the host's
    'host-files-visible': true,
    'proc-mount-leaks': false,
    'writes-reach-rootfs': true,
    ...noLimits,
    ...hostMountsIpcNetUsers,
    'runs-rootless': false,
    ...always,
  },
  '05-chroot-proc': {
    'hostname-leaks': false,
    'hostname-assigned': true,
    'init-is-pid-1': true,
    'host-processes-visible': false,
    'host-files-visible': false,
    'proc-mount-leaks': true, // no mount namespace yet: step 06 fixes it
    'writes-reach-rootfs': true,
    ...noLimits,
    ...hostMountsIpcNetUsers,
    'runs-rootless': false,
    ...always,
  },
  '06-mount-ns': {
    'hostname-leaks': false,
    'hostname-assigned': true,
    'init-is-pid-1': true,
    'host-processes-visible': false,
    'host-files-visible': false,
    'proc-mount-leaks': false,
    'writes-reach-rootfs': true,
    ...noLimits,
    ...hostMountsIpcNetUsers,
    'container-mount-leaks': false,
    'host-mounts-visible': false,
    'escape-reaches-host': false, // pivot_root: nothing above / to climb to
    'runs-rootless': false,
    ...always,
  },
  '07-ipc-net': {
    'hostname-leaks': false,
    'hostname-assigned': true,
    'init-is-pid-1': true,
    'host-processes-visible': false,
    'host-files-visible': false,
    'proc-mount-leaks': false,
    'writes-reach-rootfs': true,
    ...noLimits,
    ...hostMountsIpcNetUsers,
    'container-mount-leaks': false,
    'host-mounts-visible': false,
    'escape-reaches-host': false,
    'host-ipc-visible': false,
    'host-interfaces-visible': false,
    'loopback-up-alone': true,
    'reaches-host': false, // a network of its own, but only `lo` (until step 11)
    'runs-rootless': false,
    ...always,
  },
  '08-user': {
    'hostname-leaks': false,
    'hostname-assigned': true,
    'init-is-pid-1': true,
    'host-processes-visible': false,
    'host-files-visible': false,
    'proc-mount-leaks': false,
    'writes-reach-rootfs': true, // only /tmp now: root inside is nobody outside, and the host's root owns the rest
    ...noLimits,
    ...ownMountsIpcNetUsers,
    'runs-rootless': true,
    ...always,
  },
  '09-cgroups': {
    'hostname-leaks': false,
    'hostname-assigned': true,
    'init-is-pid-1': true,
    'host-processes-visible': false,
    'host-files-visible': false,
    'proc-mount-leaks': false,
    'writes-reach-rootfs': true, // every container still writes the one root filesystem
    ...limits,
    ...ownMountsIpcNetUsers, // built on step 08
    'runs-rootless': false, // cgroups need root here
    ...always,
  },
  '10-overlay': {
    'hostname-leaks': false,
    'hostname-assigned': true,
    'init-is-pid-1': true,
    'host-processes-visible': false,
    'host-files-visible': false,
    'proc-mount-leaks': false,
    'writes-reach-rootfs': false, // writes land in the container's own layer
    ...limits,
    ...ownMountsIpcNetUsers, // built on step 08
    'runs-rootless': false, // cgroups need root here
    ...always,
  },
  '11-veth': {
    'hostname-leaks': false,
    'hostname-assigned': true,
    'init-is-pid-1': true,
    'host-processes-visible': false,
    'host-files-visible': false,
    'proc-mount-leaks': false,
    'writes-reach-rootfs': false,
    ...limits,
    ...ownMountsIpcNetUsers,
    'loopback-up-alone': false, // `lo` and `eth0`, the container's end of the veth pair
    'reaches-host': true,
    'runs-rootless': false, // cgroups and veth pairs need root here
    ...always,
  },
};
