// Step 09: a cgroup per container, with limits on memory, processes and CPU time.
//   node steps/09-cgroups/main.ts run [--memory 64m] [--pids 32] [--cpus 0.5] <cmd> <args>
// Namespaces only hide things: a container could still take all the memory, or fork
// until the machine stops. Now the kernel counts what the container uses and caps it
// (shared/cgroups.ts: how cgroup v2 and the older v1 layout differ). Making a cgroup
// needs root again: `sudo npm run step:9 -- sh`. Node, the container's PID 1, counts
// too: ~7 "processes" (its threads) and ~30 MB.
import { spawn } from 'node:child_process';
import { Cgroup, formatSize, LIMIT_FLAGS, type Limits } from '../../shared/cgroups.ts';
import { announce, main } from '../../shared/cli.ts';
import { exitWith } from '../../shared/command.ts';
import { CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUSER, CLONE_NEWUTS, mount, sethostname } from '../../shared/libc.ts';
import { makeMountsPrivate, pivotInto } from '../../shared/mounts.ts';
import { bringUp } from '../../shared/network.ts';
import { ensureRootfs } from '../../shared/rootfs.ts';
import { spawnInUserNamespace } from '../../shared/userns.ts';

main({ run, child }, LIMIT_FLAGS);

function run(command: string[], limits: Limits): void {
  announce(command);
  ensureRootfs();
  // The container's name: 12 random hex digits, as docker's (node:crypto costs 6 ms to load).
  const id = Math.floor(Math.random() * 2 ** 48).toString(16).padStart(12, '0');
  // Its own cgroup, with the limits written in (the same id names it).
  const cgroup = Cgroup.create(id, limits);
  // However the runtime ends (the command's exit, a signal passed on, an error), the
  // cgroup goes with it: process.exit() runs this just before the process ends.
  process.on('exit', (status) => {
    // 137 = 128 + SIGKILL, which the kernel's OOM killer sends as `kill -9` does: the
    // cgroup's count of OOM kills tells the two apart.
    if (status === 137 && cgroup.oomKills() > 0) {
      process.stderr.write(`container killed: out of memory (limit ${formatSize(limits.memory)})\n`);
    }
    cgroup.remove();
  });
  // process.execPath is the program running now: node, which runs this file again.
  // The container's first process starts in its namespaces, waits, and only goes on
  // once we, root on the host, have moved it into the cgroup (it could not: root in
  // its user namespace is nobody here). All it starts from then on is born in it.
  const child = spawnInUserNamespace(process.execPath, [import.meta.filename, 'child', ...command], CLONE_NEWUSER | CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET, (pid) => cgroup.add(pid));
  exitWith(child);
}

function child(command: string[]): void {
  announce(command);
  sethostname('container-demo');
  bringUp('lo'); // a new network namespace has only `lo`, and it is down
  // Every module this process needs is loaded by now: after pivot_root, the project's
  // files are gone from this mount namespace.
  makeMountsPrivate();
  const rootfs = ensureRootfs();
  // In a user namespace the kernel mounts a new proc only where a complete one is
  // already in sight (it would reveal nothing new): so before pivot_root hides the host's.
  mount('proc', `${rootfs}/proc`, 'proc', 0);
  pivotInto(rootfs);
  const [file, ...args] = command;
  exitWith(spawn(file!, args, { stdio: 'inherit' }));
}
