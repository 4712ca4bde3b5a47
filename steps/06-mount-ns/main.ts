// Step 06: a mount namespace. The child's mounts are its own: none propagates back to
// the host, and it pivot_roots into the root filesystem, which unmounts the host's
// whole tree in the container instead of merely hiding it (chroot).
//   node steps/06-mount-ns/main.ts run <cmd> <args>    (npm run step:6 -- <cmd> <args>)
// The proc mount no longer stays on the host, the host's mount table is out of sight,
// and `escape-chroot` (in the root filesystem: it escapes step 05) finds no way out.
// IPC objects and the network are still the host's.
import { spawn } from 'node:child_process';
import { announce, main } from '../../shared/cli.ts';
import { exitWith } from '../../shared/command.ts';
import { CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS, mount, sethostname } from '../../shared/libc.ts';
import { makeMountsPrivate, pivotInto } from '../../shared/mounts.ts';
import { spawnInNamespaces } from '../../shared/namespaces.ts';
import { ensureRootfs } from '../../shared/rootfs.ts';

main({ run, child });

function run(command: string[]): void {
  announce(command);
  ensureRootfs();
  // /proc/self/exe is the program running now: node, which runs this file again.
  const child = spawnInNamespaces('/proc/self/exe', [import.meta.filename, 'child', ...command], CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS);
  exitWith(child);
}

function child(command: string[]): void {
  announce(command);
  sethostname('container-demo');
  // Every module this process needs is loaded by now: after pivot_root, the project's
  // files are gone from this mount namespace.
  makeMountsPrivate();
  pivotInto(ensureRootfs());
  mount('proc', '/proc', 'proc', 0);
  const [file, ...args] = command;
  exitWith(spawn(file!, args, { stdio: 'inherit' }));
}
