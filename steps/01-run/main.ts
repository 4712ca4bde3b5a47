// Step 01: `docker run <cmd> <args>` at its simplest.
//   node steps/01-run/main.ts run <cmd> <args>    (npm run step:1 -- <cmd> <args>)
// The command runs as our child with our stdin, stdout and stderr, and nothing else:
// no isolation yet. A hostname it changes is changed for the whole machine.
import { spawn } from 'node:child_process';
import { announce, main } from '../../shared/runtime/cli.ts';
import { exitWith } from '../../shared/runtime/command.ts';

main({ run });

function run(command: string[]): void {
  announce(command);
  const [file, ...args] = command;
  exitWith(spawn(file!, args, { stdio: 'inherit' }));
}
