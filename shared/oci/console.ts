// runc's `run` in the foreground with process.terminal and no --console-socket: the
// runtime is its own engine. It listens on a console socket of its own, receives the
// pty's master from the container (SCM_RIGHTS), and relays it to and from its own
// terminal, raw, as `docker run -it` does.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as libc from '../kernel/libc.ts';
import { RuntimeError } from '../runtime/errors.ts';
import { relayTerminal } from '../runtime/pty.ts'; // steps 08-14's relay: ours raw, the container's window our size

export interface OwnConsole {
  path: string; // for --console-socket
  relay(): Promise<void>; // once the container is ready: resolves when all it wrote is out
}

/** A console socket of our own; undefined when there is nothing to relay. */
export function ownConsole(terminal: boolean, given: unknown, detach: unknown): OwnConsole | undefined {
  if (!terminal || given) return undefined;
  if (detach) throw new RuntimeError('process.terminal with --detach: use --console-socket, which receives the terminal');
  const dir = mkdtempSync(join(tmpdir(), 'cfs-console-'));
  const path = join(dir, 'console.sock');
  const listening = libc.listenUnix(path);
  return {
    path,
    relay() {
      const master = libc.receiveFd(listening);
      libc.close(listening);
      rmSync(dir, { recursive: true, force: true });
      return relayTerminal(master);
    },
  };
}
