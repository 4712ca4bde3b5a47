// Step 01: `docker run <cmd> <args>` at its simplest: the command runs as our child,
// with our stdin, stdout and stderr, and nothing else. No isolation yet: a hostname it
// changes is changed for the whole machine. (`npm run step:1 -- <cmd> <args>`)
import { spawn } from 'node:child_process';
import { announce, main } from '../../shared/runtime/cli.ts';
import { exitWith } from '../../shared/runtime/command.ts';

main({ run });

function run(command: string[]): void {
  announce(command);
  const [file, ...args] = command;
  exitWith(spawn(file!, args, { stdio: 'inherit' }));
}
