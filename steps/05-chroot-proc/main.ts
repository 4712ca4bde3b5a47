// Step 05: the child changes its root directory to the container's root filesystem
// (chroot) and mounts a fresh /proc there, which shows only the new PID namespace.
//   node steps/05-chroot-proc/main.ts run <cmd> <args>    (npm run step:5 -- <cmd> <args>)
// As in the article there is no mount namespace yet, so that proc mount is made in the
// host's mount table and stays there after the container exits (see `grep proc
// /proc/mounts` on the host). And root inside a chroot can still climb out of it.
import { spawn } from 'node:child_process';
import { announce, main } from '../../shared/cli.ts';
import { exitWith } from '../../shared/command.ts';
import { chroot, CLONE_NEWPID, CLONE_NEWUTS, mount, sethostname } from '../../shared/libc.ts';
import { spawnInNamespaces } from '../../shared/namespaces.ts';
import { ensureRootfs } from '../../shared/rootfs.ts';

main({ run, child });

function run(command: string[]): void {
  announce(command);
  ensureRootfs();
  // /proc/self/exe is the program running now: node, which runs this file again.
  const child = spawnInNamespaces('/proc/self/exe', [import.meta.filename, 'child', ...command], CLONE_NEWUTS | CLONE_NEWPID);
  exitWith(child);
}

function child(command: string[]): void {
  announce(command);
  sethostname('container-demo');
  // Every module this process needs is loaded by now: after chroot, the project's
  // files are out of sight.
  chroot(ensureRootfs());
  process.chdir('/');
  mount('proc', '/proc', 'proc', 0);
  const [file, ...args] = command;
  exitWith(spawn(file!, args, { stdio: 'inherit' }));
}
