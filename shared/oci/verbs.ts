// The verbs that read or end a container rather than make it: state, kill, delete,
// list, ps, pause, resume, update; and spec and features, which describe the runtime.
// What they act on is in the state directory (state.ts) and in the kernel.
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../kernel/sleep.ts';
import { RuntimeError } from '../runtime/errors.ts';
import { applyResources, freeze, processesIn, removeCgroup } from './cgroups.ts';
import { operands, type Verb } from './cli.ts';
import { type Resources, readConfig } from './config.ts';
import { runHooks } from './hooks.ts';
import { Container, containerIds, type Saved } from './state.ts';

export const VERSION = 'container-from-scratch version 0.1.0 (course step 15)\nspec: 1.0.2';

/** The exit status of a child we started: its code, or 128 + the signal that ended it, as a shell says. */
export function waitForExit(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode) return Promise.resolve(128 + constants.signals[child.signalCode]);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? 128 + constants.signals[signal!]));
  });
}

/** "KILL", "SIGKILL" or "9" -> 9 */
function signalNumber(text = 'SIGTERM'): number {
  if (/^\d+$/.test(text)) return Number(text);
  const name = `SIG${text.toUpperCase().replace(/^SIG/, '')}` as keyof typeof constants.signals;
  const number = constants.signals[name];
  if (number === undefined) throw new RuntimeError(`unknown signal ${text}`);
  return number;
}

/** The state document of the runtime spec (state-schema.json), as `state` prints it. */
function stateOf(container: Container, saved: Saved) {
  const status = container.status(saved);
  return {
    ociVersion: saved.ociVersion,
    id: saved.id,
    status,
    pid: status === 'stopped' ? 0 : saved.pid,
    bundle: saved.bundle,
    rootfs: saved.rootfs,
    created: saved.created,
    annotations: saved.annotations,
    owner: '',
  };
}

/** Kill everything in it and wait until nothing is left, then remove its cgroup and state. */
function destroy(container: Container, saved: Saved): void {
  try {
    freeze(saved.cgroupDirs, false); // a frozen process cannot die
  } catch {}
  const pids = new Set([saved.pid, ...processesIn(saved.cgroupDirs)]);
  if (container.status(saved) !== 'stopped') for (const pid of pids) signal(pid, constants.signals.SIGKILL);
  for (let waited = 0; container.status(saved) !== 'stopped' && waited < 10_000; waited += 5) sleep(5);
  removeCgroup(saved.cgroupDirs);
  container.remove();
  try {
    runHooks(readConfig(saved.bundle, saved.configFile), 'poststop', { ...stateOf(container, saved), status: 'stopped' }, false);
  } catch {} // the bundle may be gone already: nothing to run
}

function signal(pid: number, number: number): void {
  try {
    process.kill(pid, number);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

const byId = (ids: string[], root: string) => new Container(root, operands(ids, 1)[0]!);

export const OTHER_VERBS: Record<string, Verb> = {
  state: {
    operands: '<container-id>',
    async run(ids, _, { root }) {
      const container = byId(ids, root);
      const state = stateOf(container, container.load());
      const { checkState } = await import('./schema.ts');
      checkState(state);
      console.log(JSON.stringify(state, null, 2));
    },
  },
  kill: {
    options: { all: { short: 'a' } },
    operands: '<container-id> [signal]',
    run(words, { all }, { root }) {
      const [id, name] = words;
      if (!id || words.length > 2) operands(words, 2);
      const container = new Container(root, id!);
      const saved = container.load();
      const status = container.status(saved);
      if (status === 'stopped') throw new RuntimeError('container not running');
      const number = signalNumber(name);
      for (const pid of all ? processesIn(saved.cgroupDirs) : [saved.pid]) signal(pid, number);
    },
  },
  delete: {
    options: { force: { short: 'f' }, regex: { short: 'r' } },
    operands: '<container-id>',
    run(ids, { force, regex }, { root }) {
      if (regex) {
        // crun's: every container whose ID matches (anchored), deleted as one by one
        const pattern = new RegExp(`^(?:${operands(ids, 1)[0]})$`);
        for (const id of containerIds(root).filter((id) => pattern.test(id))) OTHER_VERBS.delete!.run([id], { force }, { root } as never);
        return;
      }
      const container = byId(ids, root);
      if (!container.exists()) {
        if (force) return; // as runc: nothing to delete is no failure, when forced
        throw new RuntimeError(`container ${container.id} does not exist`);
      }
      const saved = container.load();
      const status = container.status(saved);
      if ((status === 'running' || status === 'paused') && !force) {
        throw new RuntimeError(`cannot delete container ${container.id} that is not stopped: ${status}`);
      }
      destroy(container, saved);
    },
  },
  list: {
    options: { quiet: { short: 'q' }, format: { value: true, short: 'f' } },
    operands: '',
    run(_, { quiet, format }, { root }) {
      const states = containerIds(root).map((id) => {
        const container = new Container(root, id);
        return stateOf(container, container.load());
      });
      if (format === 'json') return void console.log(JSON.stringify(states));
      if (quiet) return void states.forEach((s) => void console.log(s.id));
      console.log(['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED'].join('\t'));
      for (const s of states) console.log([s.id, s.pid, s.status, s.bundle, s.created].join('\t'));
    },
  },
  ps: {
    options: { format: { value: true, short: 'f' } },
    operands: '<container-id>',
    run(words, { format }, { root }) {
      const container = new Container(root, words[0] ?? '');
      const pids = processesIn(container.load().cgroupDirs);
      if (format === 'json') return void console.log(JSON.stringify(pids));
      console.log('PID\tCMD');
      for (const pid of pids) console.log(`${pid}\t${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()}`);
    },
  },
  pause: {
    operands: '<container-id>',
    run(ids, _, { root }) {
      const container = byId(ids, root);
      const saved = container.load();
      if (container.status(saved) !== 'running') throw new RuntimeError('container not running');
      freeze(saved.cgroupDirs, true);
    },
  },
  resume: {
    operands: '<container-id>',
    run(ids, _, { root }) {
      const container = byId(ids, root);
      const saved = container.load();
      if (container.status(saved) !== 'paused') throw new RuntimeError('container not paused');
      freeze(saved.cgroupDirs, false);
    },
  },
  update: {
    options: { resources: { value: true, short: 'r' } },
    operands: '<container-id>',
    run(ids, { resources }, { root }) {
      const container = byId(ids, root);
      const saved = container.load();
      if (!resources) throw new RuntimeError('update: --resources <file> (or - for stdin) is the only form this runtime takes');
      const text = readFileSync(resources === '-' ? 0 : (resources as string), 'utf8');
      applyResources(saved.cgroupDirs, JSON.parse(text) as Resources);
    },
  },
  spec: {
    options: { bundle: { value: true, short: 'b' }, rootless: {} },
    operands: '',
    async run(_, { bundle = '.', rootless }) {
      if (rootless) throw new RuntimeError('spec --rootless: this runtime runs containers as root only');
      const file = join(bundle as string, 'config.json');
      if (existsSync(file)) throw new RuntimeError(`File ${file} exists. Remove it first`);
      const { defaultSpec } = await import('./spec.ts');
      writeFileSync(file, `${JSON.stringify(defaultSpec(), null, '\t')}\n`);
    },
  },
  features: {
    operands: '',
    async run() {
      const { features } = await import('./features.ts');
      console.log(JSON.stringify(features(), null, '    '));
    },
  },
};
