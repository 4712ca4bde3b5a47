// Step 02: the command gets a new UTS namespace (hostname and NIS domain name).
//   node steps/02-uts/main.ts run <cmd> <args>    (npm run step:2 -- <cmd> <args>)
// The child starts with a copy of the host's hostname; changing it inside no longer
// changes the host's. Everything else (processes, files, mounts) is still shared.
import { announce, main } from '../../shared/cli.ts';
import { exitWith } from '../../shared/command.ts';
import { CLONE_NEWUTS } from '../../shared/libc.ts';
import { spawnInNamespaces } from '../../shared/namespaces.ts';

main({ run });

function run(command: string[]): void {
  announce(command);
  const [file, ...args] = command;
  exitWith(spawnInNamespaces(file!, args, CLONE_NEWUTS));
}
