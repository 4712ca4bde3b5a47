// What each step is meant to isolate: the course as a table, a row per probe
// (test/probes.ts), a column per step, `y` or `n`. Every step answers every probe, so
// each claim is checked both ways (01 leaks the hostname, 02 must not).
// `npm run matrix` prints the same table, as measured.
import { PROBES, type ProbeId } from './probes.ts';

export const STEPS = ['01-run', '02-uts', '03-hostname', '04-pid', '05-chroot-proc', '06-mount-ns', '07-ipc-net', '08-user', '09-cgroups', '10-overlay', '11-veth'] as const;
export type Step = (typeof STEPS)[number];

const TABLE: Record<ProbeId, string> = {
  //                          01  02  03  04  05  06  07  08  09  10  11
  'hostname-leaks':          'y   n   n   n   n   n   n   n   n   n   n',
  'hostname-assigned':       'n   n   y   y   y   y   y   y   y   y   y',
  'init-is-pid-1':           'n   n   n   y   y   y   y   y   y   y   y',
  'host-processes-visible':  'y   y   y   y   n   n   n   n   n   n   n', // 04: /proc is still the host's
  'host-files-visible':      'y   y   y   y   n   n   n   n   n   n   n',
  'proc-mount-leaks':        'n   n   n   n   y   n   n   n   n   n   n', // 05: no mount namespace yet
  'container-mount-leaks':   'y   y   y   y   y   n   n   n   n   n   n',
  'host-mounts-visible':     'y   y   y   y   y   n   n   n   n   n   n',
  'escape-reaches-host':     'y   y   y   y   y   n   n   n   n   n   n', // 06: pivot_root, nothing above / to climb to
  'host-ipc-visible':        'y   y   y   y   y   y   n   n   n   n   n',
  'host-interfaces-visible': 'y   y   y   y   y   y   n   n   n   n   n',
  'loopback-up-alone':       'n   n   n   n   n   n   y   y   y   y   n', // 11: `lo` and `eth0`, its end of the veth pair
  'reaches-host':            'n   n   n   n   n   n   n   n   n   n   y', // 01-06 share the host's network: no link of their own
  'root-writes-host-files':  'y   y   y   y   y   y   y   n   n   n   n',
  'root-is-host-root':       'y   y   y   y   y   y   y   n   n   n   n',
  'runs-rootless':           'y   n   n   n   n   n   n   y   n   n   n', // 01: nothing to unshare; 09+: cgroups need root
  'exit-status':             'y   y   y   y   y   y   y   y   y   y   y',
  'stdout-stderr-separate':  'y   y   y   y   y   y   y   y   y   y   y',
  'stdin-passed':            'y   y   y   y   y   y   y   y   y   y   y',
  'own-cgroup':              'n   n   n   n   n   n   n   n   y   y   y',
  'memory-limited':          'n   n   n   n   n   n   n   n   y   y   y',
  'pids-limited':            'n   n   n   n   n   n   n   n   y   y   y',
  'writes-reach-rootfs':     'y   y   y   y   y   y   y   y   y   n   n', // 08: only /tmp, the host's root owns the rest
};

/** EXPECTED[step][probe]: the answer the course expects. */
export const EXPECTED = Object.fromEntries(
  STEPS.map((step, column) => [
    step,
    Object.fromEntries(
      (Object.keys(PROBES) as ProbeId[]).map((probe) => {
        const answers = TABLE[probe].split(/\s+/);
        if (answers.length !== STEPS.length || answers.some((a) => a !== 'y' && a !== 'n')) {
          throw new Error(`test/expectations.ts: the row of ${probe} needs one y or n per step`);
        }
        return [probe, answers[column] === 'y'];
      }),
    ),
  ]),
) as Record<Step, Record<ProbeId, boolean>>;
