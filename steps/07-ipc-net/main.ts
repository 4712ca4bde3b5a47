// Step 07: IPC and network namespaces. System V IPC objects (shared memory, semaphores,
// message queues) and POSIX message queues made on the host are no longer visible
// inside, and the container gets a network stack of its own: one loopback interface,
// which the child brings up, and none of the host's interfaces.
//   node steps/07-ipc-net/main.ts run <cmd> <args>    (npm run step:7 -- <cmd> <args>)
// Root inside is still root on the host: files the host's root owns are its own.
import { spawn } from 'node:child_process';
import { announce, main } from '../../shared/cli.ts';
import { exitWith } from '../../shared/command.ts';
import { CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS, mount, sethostname } from '../../shared/libc.ts';
import { makeMountsPrivate, pivotInto } from '../../shared/mounts.ts';
import { spawnInNamespaces } from '../../shared/namespaces.ts';
import { bringUp } from '../../shared/network.ts';
import { ensureRootfs } from '../../shared/rootfs.ts';

main({ run, child });

function run(command: string[]): void {
  announce(command);
  ensureRootfs();
  // /proc/self/exe is the program running now: node, which runs this file again.
  const child = spawnInNamespaces('/proc/self/exe', [import.meta.filename, 'child', ...command], CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET);
  exitWith(child);
}

function child(command: string[]): void {
  announce(command);
  sethostname('container-demo');
  bringUp('lo'); // a new network namespace has only `lo`, and it is down
  // Every module this process needs is loaded by now: after pivot_root, the project's
  // files are gone from this mount namespace.
  makeMountsPrivate();
  pivotInto(ensureRootfs());
  mount('proc', '/proc', 'proc', 0);
  const [file, ...args] = command;
  exitWith(spawn(file!, args, { stdio: 'inherit' }));
}
