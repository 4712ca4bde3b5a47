// Step 03: the runtime re-executes itself as `/proc/self/exe <main.ts> child <cmd>`
// inside the new UTS namespace. That child is our own code running *inside* the
// container before the command does: it sets the hostname `container-demo`.
//   node steps/03-hostname/main.ts run <cmd> <args>    (npm run step:3 -- <cmd> <args>)
// The container can still see every process on the host.
import { spawn } from 'node:child_process';
import { CLONE_NEWUTS, sethostname } from '../../shared/kernel/libc.ts';
import { spawnInNamespaces } from '../../shared/kernel/namespaces.ts';
import { announce, main } from '../../shared/runtime/cli.ts';
import { exitWith } from '../../shared/runtime/command.ts';
import { superviseAsInit } from '../../shared/runtime/init.ts';

main({ run, child });

function run(command: string[]): void {
  announce(command);
  // /proc/self/exe is the program running now: node, which runs this file again.
  const child = spawnInNamespaces('/proc/self/exe', [import.meta.filename, 'child', '--', ...command], CLONE_NEWUTS);
  exitWith(child);
}

function child(command: string[]): void {
  announce(command);
  sethostname('container-demo');
  const [file, ...args] = command;
  const started = spawn(file!, args, { stdio: 'inherit' });
  superviseAsInit(started); // the duties of a container's first process: shared/runtime/init.ts
  exitWith(started);
}
