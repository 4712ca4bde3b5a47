// Step 02: the command gets a new UTS namespace (hostname and NIS domain name).
//   node steps/02-uts/main.ts run <cmd> <args>    (npm run step:2 -- <cmd> <args>)
// The child starts with a copy of the host's hostname; changing it inside no longer
// changes the host's. Everything else (processes, files, mounts) is still shared.

import { CLONE_NEWUTS } from '../../shared/kernel/libc.ts';
import { spawnInNamespaces } from '../../shared/kernel/namespaces.ts';
import { announce, main } from '../../shared/runtime/cli.ts';
import { exitWith } from '../../shared/runtime/command.ts';

main({ run });

function run(command: string[]): void {
  announce(command);
  const [file, ...args] = command;
  exitWith(spawnInNamespaces(file!, args, CLONE_NEWUTS));
}
