// A terminal of the container's own (docker run -t), from step 08 on. Sharing ours would
// hand root in the container (an unprivileged user on the host, since step 08) our shell: the
// ioctl(TIOCSTI) pushes keystrokes into a terminal's input, and what the container
// pushes there, our shell reads and runs, as us, once the container has ended.
// So the container gets a pseudo-terminal: its end (/dev/pts/N) is the container's
// stdin, stdout and stderr; we hold the other (the master), and relay: what we read
// from our terminal goes to it, byte for byte (ours in raw mode: Ctrl-C is a byte too,
// which the container's terminal turns into SIGINT for its foreground job); what the
// container writes comes out on our stdout. Its window size follows ours.
import { constants, openSync } from 'node:fs';
import type { ReadStream, WriteStream } from 'node:tty';
import { openPseudoTerminal, setWindowSize } from '../kernel/libc.ts';
import { atExit } from './exit.ts';
import { inTerminalForeground } from './terminal.ts';

export interface ContainerTerminal {
  slave: number; // the container's end, to give it as its stdio (then close it here)
  drained: Promise<void>; // once the container's end is closed everywhere and all it wrote is out
}

/**
 * On our terminal, open the container's and start relaying (ours goes raw until we
 * exit); when ours is not a terminal (a pipe, a file), or not ours now, none: undefined.
 */
export function openContainerTerminal(): ContainerTerminal | undefined {
  // In the background of our terminal (`... &`), none either: setting ours raw would
  // stop us (SIGTTOU), and what we relayed would be read by no one.
  if (!process.stdin.isTTY || !process.stdout.isTTY || !inTerminalForeground()) return undefined;
  const { master, slavePath } = openPseudoTerminal();
  // O_NOCTTY: it is the container's first process that makes it its controlling terminal.
  const slave = openSync(slavePath, constants.O_RDWR | constants.O_NOCTTY);
  return { slave, drained: relayTerminal(master) };
}

/**
 * Relay the pseudo-terminal whose master is `master` to and from ours (also step 15's
 * `run`, which receives the master from the container). Resolves once the container's
 * end is closed everywhere and all it wrote is out.
 */
export function relayTerminal(master: number): Promise<void> {
  const tty = process.getBuiltinModule('node:tty'); // loaded here: only a terminal's run needs it
  const stdout = process.stdout as WriteStream;
  const input = process.stdin as ReadStream;
  if (stdout.isTTY) {
    const resize = () => {
      const [columns, rows] = stdout.getWindowSize();
      setWindowSize(master, rows, columns);
    };
    resize();
    stdout.on('resize', resize); // our SIGWINCH
  }
  if (input.isTTY) {
    input.setRawMode(true);
    atExit(() => input.setRawMode(false));
  }
  const toContainer = new tty.WriteStream(master);
  input.on('data', (bytes) => toContainer.write(bytes));
  const fromContainer = new tty.ReadStream(master);
  fromContainer.on('data', (bytes) => stdout.write(bytes));
  return new Promise<void>((resolve) => {
    // EIO: the kernel's way to say that no process holds the container's end any more.
    fromContainer.on('error', () => {});
    fromContainer.on('close', () => {
      input.pause(); // nothing left to relay to: let the event loop end
      resolve();
    });
  });
}
