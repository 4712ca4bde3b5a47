// Step 02: the command gets a new UTS namespace (hostname and NIS domain name): it starts
// with a copy of the host's hostname, and changing it inside no longer changes the
// host's. Everything else (processes, files, mounts) is still shared.
import * as libc from '../../shared/kernel/libc.ts';
import { spawnInNamespaces } from '../../shared/kernel/namespaces.ts';
import { announce, main } from '../../shared/runtime/cli.ts';
import { exitWith } from '../../shared/runtime/command.ts';

main({ run });

function run(command: string[]): void {
  announce(command);
  const [file, ...args] = command;
  exitWith(spawnInNamespaces(file!, args, libc.CLONE_NEWUTS));
}
