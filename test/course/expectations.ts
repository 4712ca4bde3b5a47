// What each step is meant to isolate: the course as a table, a row per probe
// (test/course/probes.ts). A row says the answer of the first step, then each step where it
// changes, by number: 'y 02:n' is yes in step 01, no from step 02 on. A new step that
// changes no answer needs no edit here; one that does is a lesson, and its row says so.
// Every step answers every probe, so each claim is checked both ways (01 leaks the
// hostname, 02 must not). `npm run matrix` prints the same table, as measured.
import { dockerLikeSteps, stepNumber } from '../../steps/list.ts';
import { PROBES, type ProbeId } from './probes.ts';

export const STEPS = dockerLikeSteps(); // not 15-oci, which an engine drives (test/oci/)
export type Step = string;

export const CHANGES: Record<ProbeId, string> = {
  'hostname-leaks': 'y 02:n',
  'hostname-assigned': 'n 03:y',
  'init-is-pid-1': 'n 04:y',
  'host-processes-visible': 'y 05:n', // 04: /proc is still the host's
  'host-files-visible': 'y 05:n',
  'proc-mount-leaks': 'n 05:y 06:n', // 05: no mount namespace yet
  'container-mount-leaks': 'y 06:n',
  'host-mounts-visible': 'y 06:n',
  'escape-reaches-host': 'y 06:n', // 06: pivot_root, nothing above / to climb to
  'host-ipc-visible': 'y 07:n',
  'host-interfaces-visible': 'y 07:n',
  'loopback-up-alone': 'n 07:y 11:n', // 11: `lo` and `eth0`, its end of the veth pair
  'reaches-host': 'n 11:y', // 01-06 share the host's network: no link of their own
  'reaches-world': 'y 07:n 12:y', // 01-06: the host's network; 12: through its NAT
  'reaches-other-container': 'n 12:y', // 12: one bridge for all
  'publishes-port': 'n 13:y', // 13: -p, DNAT to the container
  'types-into-terminal': 'y 08:n', // 08: a terminal of its own (shared/runtime/pty.ts)
  'root-writes-host-files': 'y 08:n',
  'root-is-host-root': 'y 08:n',
  'runs-rootless': 'y 02:n 08:y 09:n', // 01: nothing to unshare; 09+: cgroups need root
  'own-cgroup': 'n 09:y',
  'memory-limited': 'n 09:y',
  'pids-limited': 'n 09:y',
  'writes-reach-rootfs': 'y 10:n', // 08: only /tmp, the host's root owns the rest
  // 14: least privilege. Root inside keeps 14 capabilities (no CAP_SYS_ADMIN, no
  // CAP_NET_ADMIN), a seccomp filter refuses the calls, /proc is masked and partly read-only.
  'mounts-filesystem': 'y 14:n',
  'makes-user-namespace': 'y 05:n 06:y 14:n', // 05: none for a chrooted process; 06: pivot_root
  'makes-mount-namespace': 'y 14:n',
  'renames-host': 'y 14:n', // 01-02: the host's name
  'reconfigures-link': 'y 14:n', // 01-06: the host's lo
  'calls-keyctl': 'y 14:n',
  'calls-bpf': 'y 14:n',
  'calls-userfaultfd': 'y 14:n',
  'calls-io-uring': 'y 14:n',
  'calls-perf-event-open': 'y 14:n',
  'writes-sysctl': 'y 14:n', // 01-06: the host's network's; 14: /proc/sys is read-only
  'reads-masked-proc': 'y 14:n', // 14: /dev/null over it
  'sees-runtime-env': 'y 14:n', // 14: the image's environment, and -e's, never the runtime's
  // Invariants: what every step must do, as docker run does.
  'exit-status': 'y',
  'stdout-stderr-separate': 'y',
  'stdin-passed': 'y',
};

/** The rows that hold in every step: a runtime's duties, not a lesson. */
export const INVARIANTS = (Object.keys(CHANGES) as ProbeId[]).filter((id) => CHANGES[id] === 'y');

/** A row, read: the answer at each step of `steps`. Throws on a row that does not parse. */
export function answers(row: string, steps: string[]): boolean[] {
  const [first, ...changes] = row.trim().split(/\s+/);
  const yes = (word: string | undefined) => {
    if (word !== 'y' && word !== 'n') throw new Error(`test/course/expectations.ts: "${row}": y or n expected, not ${word}`);
    return word === 'y';
  };
  const at = new Map(
    changes.map((change) => {
      const [number, word] = change.split(':');
      if (!steps.some((step) => stepNumber(step) === Number(number)))
        throw new Error(`test/course/expectations.ts: "${row}": no step ${number}`);
      return [Number(number), yes(word)];
    }),
  );
  let answer = yes(first);
  return steps.map((step) => (answer = at.get(stepNumber(step)) ?? answer));
}

/** EXPECTED[step][probe]: the answer the course expects. */
export const EXPECTED: Record<Step, Record<ProbeId, boolean>> = Object.fromEntries(
  STEPS.map((step) => [step, {} as Record<ProbeId, boolean>]),
);
for (const probe of Object.keys(PROBES) as ProbeId[]) {
  answers(CHANGES[probe], STEPS).forEach((answer, column) => {
    EXPECTED[STEPS[column]!]![probe] = answer;
  });
}

/** The steps whose answer to `probe` is `answer`: those a feature's tests run on. */
export function stepsWhere(probe: ProbeId, answer = true): Step[] {
  return STEPS.filter((step) => EXPECTED[step]![probe] === answer);
}
