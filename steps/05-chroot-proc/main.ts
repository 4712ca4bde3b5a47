// Step 05: the child changes its root directory to the container's (chroot) and mounts
// there a /proc that shows only its PID namespace. With no mount namespace yet, that
// mount stays in the host's table after the container ends; and root can leave a chroot.
import { ensureRootfs } from '../../shared/image/rootfs.ts';
import * as libc from '../../shared/kernel/libc.ts';
import { spawnInNamespaces } from '../../shared/kernel/namespaces.ts';
import { announce, type ChildOptions, main } from '../../shared/runtime/cli.ts';
import { exitWith, startCommand } from '../../shared/runtime/command.ts';
import { superviseAsInit } from '../../shared/runtime/init.ts';

const HOSTNAME = 'container-demo';

main({ run, child });

function run(command: string[]): void {
  announce(command);
  const rootfs = ensureRootfs(); // built from busybox on first use: shared/image/rootfs.ts
  // /proc/self/exe is the program running now: node, which runs this file again.
  const child = spawnInNamespaces(
    '/proc/self/exe',
    [import.meta.filename, 'child', `--root=${rootfs}`, '--', ...command],
    libc.CLONE_NEWUTS | libc.CLONE_NEWPID,
  );
  exitWith(child);
}

function child(command: string[], { root }: ChildOptions): void {
  announce(command);
  libc.sethostname(HOSTNAME);
  chrootInto(root);
  const started = startCommand(command);
  superviseAsInit(started); // the duties of a container's first process: shared/runtime/init.ts
  exitWith(started);
}

/** Step 05: the root filesystem as `/` (chroot), and in it a /proc of the new PID namespace. */
function chrootInto(root: string): void {
  // Every module this process needs is loaded by now: after chroot, the project's files are out of sight.
  libc.chroot(root);
  process.chdir('/');
  libc.mount('proc', '/proc', 'proc', 0);
}
