// The isolation probes: each one asks a yes/no question about a step, by running the
// step in a sandbox host and looking at the result from outside. The tests and
// `npm run matrix` ask the same questions.
//
// A probe's script is bash, run in a fresh sandbox (see sandbox.ts); `run <cmd>`
// runs the step under test. `observe` answers yes or no, and throws when the outcome
// fits neither answer, so a broken probe shows as broken, never as a quiet "no".
import type { Outcome } from './sandbox.ts';
import { SANDBOX_HOSTNAME } from './sandbox.ts';

export interface Probe {
  claim: string;
  script: string;
  observe(outcome: Outcome): boolean;
}

export class ProbeError extends Error {}

/** Find `key=value` in stdout and map the value to an answer. */
function answer(outcome: Outcome, key: string, judge: (value: string) => boolean | undefined): boolean {
  const value = outcome.stdout.match(new RegExp(`^${key}=(.*)$`, 'm'))?.[1];
  const verdict = value === undefined ? undefined : judge(value);
  if (verdict === undefined) {
    throw new ProbeError(`no answer for ${key} (status ${outcome.status})\nstdout: ${outcome.stdout}\nstderr: ${outcome.stderr}`);
  }
  return verdict;
}

const count = (value: string) => (/^\d+$/.test(value) ? Number(value) > 0 : undefined);
const yesNo = (value: string) => (value === 'yes' ? true : value === 'no' ? false : undefined);

export const PROBES = {
  'hostname-leaks': {
    claim: 'a hostname set inside changes the host',
    script: `run sh -c 'hostname leaked-name'; echo "host=$(hostname)"`,
    observe: (o) => answer(o, 'host', (v) => (v === 'leaked-name' ? true : v === SANDBOX_HOSTNAME ? false : undefined)),
  },
  'hostname-assigned': {
    claim: 'the container is named container-demo',
    script: `echo "name=$(run hostname)"`,
    observe: (o) => answer(o, 'name', (v) => (v === 'container-demo' ? true : v === SANDBOX_HOSTNAME ? false : undefined)),
  },
  'init-is-pid-1': {
    claim: "the command's parent is PID 1 of a new process tree",
    script: `run sh -c 'echo "ppid=$PPID"'`,
    observe: (o) => answer(o, 'ppid', (v) => (v === '1' ? true : /^\d+$/.test(v) ? false : undefined)),
  },
  'host-processes-visible': {
    claim: "the host's processes are visible inside",
    // A host process with a name to look for; [e] keeps grep from finding itself.
    script: String.raw`(exec -a cfs-host-marker sleep 60) &
      run sh -c 'echo "count=$(grep -l cfs-host-mark[e]r /proc/[0-9]*/cmdline 2>/dev/null | wc -l)"'`,
    observe: (o) => answer(o, 'count', count),
  },
  'host-files-visible': {
    claim: "the host's files are visible inside",
    script: `run sh -c 'test -e "$0" && echo seen=yes || echo seen=no' "$REPO/package.json"`,
    observe: (o) => answer(o, 'seen', yesNo),
  },
  'proc-mount-leaks': {
    claim: "the container's /proc mount stays on the host after exit",
    script: `run true; echo "count=$(awk -v d="$CONTAINERFS/proc" '$2 == d && $3 == "proc"' /proc/mounts | wc -l)"`,
    observe: (o) => answer(o, 'count', count),
  },
  'exit-status': {
    claim: "the command's exit status is the runtime's (128+N for signal N)",
    script: `run sh -c 'exit 42'; a=$?; run sh -c 'kill -TERM $$'; echo "statuses=$a,$?"`,
    observe: (o) => answer(o, 'statuses', (v) => v === '42,143'),
  },
  'stdout-stderr-separate': {
    claim: "the command's stdout and stderr stay separate",
    script: String.raw`err=$(mktemp -p "$SANDBOX_DIR")
      out=$(run sh -c 'echo to-out; echo to-err >&2' 2>"$err")
      grep -qx to-err "$err" && ! grep -qx to-out "$err" && [ "$out" = to-out ] && echo separate=yes || echo separate=no`,
    observe: (o) => answer(o, 'separate', yesNo),
  },
  'stdin-passed': {
    claim: 'the command reads the runtime\'s stdin',
    script: `echo "read=$(echo piped-in | run cat)"`,
    observe: (o) => answer(o, 'read', (v) => v === 'piped-in'),
  },
} satisfies Record<string, Probe>;

export type ProbeId = keyof typeof PROBES;
