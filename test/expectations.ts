// What each step is meant to isolate: the course as a table. Every step states every
// claim, so each claim is checked both ways (01 leaks the hostname, 02 must not).
import type { ProbeId } from './probes.ts';

export const STEPS = ['01-run', '02-uts', '03-hostname', '04-pid', '05-chroot-proc'] as const;
export type Step = (typeof STEPS)[number];

const always = { 'exit-status': true, 'stdout-stderr-separate': true, 'stdin-passed': true } as const;

export const EXPECTED: Record<Step, Record<ProbeId, boolean>> = {
  '01-run': {
    'hostname-leaks': true,
    'hostname-assigned': false,
    'init-is-pid-1': false,
    'host-processes-visible': true,
    'host-files-visible': true,
    'proc-mount-leaks': false,
    ...always,
  },
  '02-uts': {
    'hostname-leaks': false,
    'hostname-assigned': false,
    'init-is-pid-1': false,
    'host-processes-visible': true,
    'host-files-visible': true,
    'proc-mount-leaks': false,
    ...always,
  },
  '03-hostname': {
    'hostname-leaks': false,
    'hostname-assigned': true,
    'init-is-pid-1': false,
    'host-processes-visible': true,
    'host-files-visible': true,
    'proc-mount-leaks': false,
    ...always,
  },
  '04-pid': {
    'hostname-leaks': false,
    'hostname-assigned': true,
    'init-is-pid-1': true,
    'host-processes-visible': true, // /proc is still the host's
    'host-files-visible': true,
    'proc-mount-leaks': false,
    ...always,
  },
  '05-chroot-proc': {
    'hostname-leaks': false,
    'hostname-assigned': true,
    'init-is-pid-1': true,
    'host-processes-visible': false,
    'host-files-visible': false,
    'proc-mount-leaks': true, // no mount namespace yet: step 06 fixes it
    ...always,
  },
};
