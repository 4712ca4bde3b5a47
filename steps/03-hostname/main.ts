// Step 03: the runtime re-executes itself, `/proc/self/exe <main.ts> child <cmd>`, in the
// new UTS namespace: that child is our own code running inside the container before the
// command does, and it sets the hostname. The container still sees the host's processes.
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
  const child = spawnInNamespaces('/proc/self/exe', [import.meta.filename, 'child', '--', ...command], libc.CLONE_NEWUTS);
  exitWith(child);
}

function child(command: string[]): void {
  announce(command);
  libc.sethostname(HOSTNAME);
  const started = startCommand(command);
  superviseAsInit(started); // the duties of a container's first process: shared/runtime/init.ts
  exitWith(started);
}
