// Step 08: a user namespace. Root in the container is an unprivileged user on the host
// (you, or nobody): full power over the container's namespaces, none over the host's
// files, not even the root filesystem's, which the host's root owns.
//   node steps/08-user/main.ts run <cmd> <args>    (npm run step:8 -- <cmd> <args>)
// Node cannot create a user namespace (it has threads): a small helper before it does,
// and we write the ID maps. See shared/userns.ts. So no root is needed any more:
// `npm run step:8 -- sh` works rootless, wherever the kernel allows user namespaces.
import { spawn } from 'node:child_process';
import { announce, main } from '../../shared/cli.ts';
import { exitWith } from '../../shared/command.ts';
import { CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUSER, CLONE_NEWUTS, mount, sethostname } from '../../shared/libc.ts';
import { makeMountsPrivate, pivotInto } from '../../shared/mounts.ts';
import { bringUp } from '../../shared/network.ts';
import { ensureRootfs } from '../../shared/rootfs.ts';
import { spawnInUserNamespace } from '../../shared/userns.ts';

main({ run, child });

function run(command: string[]): void {
  announce(command);
  ensureRootfs();
  // process.execPath is the program running now: node, which runs this file again.
  const child = spawnInUserNamespace(process.execPath, [import.meta.filename, 'child', ...command], CLONE_NEWUSER | CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET);
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
