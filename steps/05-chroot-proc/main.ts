// Step 05: the child changes its root directory to the container's root filesystem
// (chroot) and mounts a fresh /proc there, which shows only the new PID namespace.
//   node steps/05-chroot-proc/main.ts run <cmd> <args>    (npm run step:5 -- <cmd> <args>)
// As in the article there is no mount namespace yet, so that proc mount is made in the
// host's mount table and stays there after the container exits (see `grep proc
// /proc/mounts` on the host). And root inside a chroot can still climb out of it.
import { spawn } from 'node:child_process';
import { ensureRootfs } from '../../shared/image/rootfs.ts';
import { CLONE_NEWPID, CLONE_NEWUTS, chroot, mount, sethostname } from '../../shared/kernel/libc.ts';
import { spawnInNamespaces } from '../../shared/kernel/namespaces.ts';
import { announce, type ChildOptions, main } from '../../shared/runtime/cli.ts';
import { exitWith } from '../../shared/runtime/command.ts';
import { superviseAsInit } from '../../shared/runtime/init.ts';

main({ run, child });

function run(command: string[]): void {
  announce(command);
  const rootfs = ensureRootfs(); // built from busybox on first use: shared/image/rootfs.ts
  // /proc/self/exe is the program running now: node, which runs this file again.
  const child = spawnInNamespaces(
    '/proc/self/exe',
    [import.meta.filename, 'child', `--root=${rootfs}`, '--', ...command],
    CLONE_NEWUTS | CLONE_NEWPID,
  );
  exitWith(child);
}

function child(command: string[], { root }: ChildOptions): void {
  announce(command);
  sethostname('container-demo');
  // Every module this process needs is loaded by now: after chroot, the project's
  // files are out of sight.
  chroot(root);
  process.chdir('/');
  mount('proc', '/proc', 'proc', 0);
  const [file, ...args] = command;
  const started = spawn(file!, args, { stdio: 'inherit' });
  superviseAsInit(started); // the duties of a container's first process: shared/runtime/init.ts
  exitWith(started);
}
