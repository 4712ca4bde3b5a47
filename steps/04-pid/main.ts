// Step 04: a PID namespace. The child is PID 1 of a new process tree, and the command it
// starts is PID 2. Yet `ls /proc` still lists the host's processes: /proc is the host's
// proc filesystem, which shows the PID namespace it was mounted for, not ours.
import * as libc from '../../shared/kernel/libc.ts';
import { spawnInNamespaces } from '../../shared/kernel/namespaces.ts';
import { announce, main } from '../../shared/runtime/cli.ts';
import { exitWith, startCommand } from '../../shared/runtime/command.ts';
import { superviseAsInit } from '../../shared/runtime/init.ts';

const HOSTNAME = 'container-demo';

main({ run, child });

function run(command: string[]): void {
  announce(command);
  // /proc/self/exe is the program running now: node, which runs this file again.
  const child = spawnInNamespaces(
    '/proc/self/exe',
    [import.meta.filename, 'child', '--', ...command],
    libc.CLONE_NEWUTS | libc.CLONE_NEWPID,
  );
  exitWith(child);
}

function child(command: string[]): void {
  announce(command);
  libc.sethostname(HOSTNAME);
  const started = startCommand(command);
  superviseAsInit(started); // the duties of a container's first process: shared/runtime/init.ts
  exitWith(started);
}
