// What of /proc and /sys a container sees, and which devices: docker's defaults.
// Masked: a file (or a directory) the host's kernel fills with what is not the
// container's business (kcore is the host's memory; keys, timers and interrupts leak
// what the host does), hidden under /dev/null or an empty, read-only tmpfs.
export const MASKED_FILES = [
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/sched_debug',
  '/proc/timer_list',
  '/proc/timer_stats',
];
export const MASKED_DIRECTORIES = ['/proc/acpi', '/proc/asound', '/proc/scsi', '/sys/devices/virtual/powercap', '/sys/firmware'];

/** Read-only: the kernel's knobs (/proc/sys), and what would change the host's hardware. */
export const READ_ONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** The devices of a container's /dev: the host's own, bind-mounted (root of a user namespace may not mknod). */
export const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];

/** The links of a /dev, as docker makes them. */
export const DEV_LINKS = {
  ptmx: 'pts/ptmx', // the container's own pseudo-terminals (its devpts instance)
  fd: '/proc/self/fd',
  stdin: '/proc/self/fd/0',
  stdout: '/proc/self/fd/1',
  stderr: '/proc/self/fd/2',
};
