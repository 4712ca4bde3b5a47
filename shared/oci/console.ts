// runc's `run` in the foreground with process.terminal and no --console-socket: the
// runtime is its own engine. It listens on a console socket of its own, receives the
// pty's master from the container (SCM_RIGHTS), and relays it to and from its own
// terminal, raw, as `docker run -it` does.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as libc from '../kernel/libc.ts';
import { RuntimeError } from '../runtime/errors.ts';

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

function relayTerminal(master: number): Promise<void> {
  const { ReadStream, WriteStream } = process.getBuiltinModule('node:tty');
  const fromContainer = new ReadStream(master);
  const toContainer = new WriteStream(master);
  const stdin = process.stdin;
  if (stdin.isTTY) stdin.setRawMode(true); // every key goes through: Ctrl-C is the container's
  stdin.pipe(toContainer);
  fromContainer.pipe(process.stdout, { end: false });
  return new Promise((resolve) => {
    // The container's end closes as its last process ends: the master then reads EIO.
    const done = () => {
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.unpipe(toContainer);
      stdin.pause();
      resolve();
    };
    fromContainer.on('error', done);
    fromContainer.on('end', done);
  });
}
