// Step 04: add a PID namespace. The child is PID 1 of a new process tree, and the
// command it starts is PID 2.
//   node steps/04-pid/main.ts run <cmd> <args>    (npm run step:4 -- <cmd> <args>)
// Yet `ls /proc` inside still lists the host's processes: /proc is the host's proc
// filesystem, which shows the PID namespace it was mounted for, not ours.
import { spawn } from 'node:child_process';
import { CLONE_NEWPID, CLONE_NEWUTS, sethostname } from '../../shared/kernel/libc.ts';
import { spawnInNamespaces } from '../../shared/kernel/namespaces.ts';
import { announce, main } from '../../shared/runtime/cli.ts';
import { exitWith } from '../../shared/runtime/command.ts';
import { superviseAsInit } from '../../shared/runtime/init.ts';

main({ run, child });

function run(command: string[]): void {
  announce(command);
  // /proc/self/exe is the program running now: node, which runs this file again.
  const child = spawnInNamespaces('/proc/self/exe', [import.meta.filename, 'child', '--', ...command], CLONE_NEWUTS | CLONE_NEWPID);
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
