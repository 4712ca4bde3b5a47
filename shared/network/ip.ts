// iproute2's `ip`, for what a learner would type too (`ip link add ... type veth`): the
// netlink messages behind it are many and fiddly. Several commands go in one spawn
// (`ip -batch -`); the first that fails stops them, and becomes one line.
import { execFileSync } from 'node:child_process';
import { RuntimeError } from '../runtime/errors.ts';

/** Run `ip` commands ("link set lo up", ...) and return what they print. */
export function ip(commands: string[], options: string[] = []): string {
  try {
    return execFileSync('ip', [...options, '-batch', '-'], {
      input: commands.join('\n'),
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (error) {
    const { code, stderr, status } = error as NodeJS.ErrnoException & { stderr?: string; status?: number };
    if (code === 'ENOENT') throw new RuntimeError('ip: not found: install iproute2 (sudo apt-get install iproute2)');
    // ip says why, then "Command failed -:2": the line of its input that failed.
    const said = `${stderr ?? ''}`.trim().split('\n');
    const line = Number(/^Command failed -:(\d+)$/.exec(said.at(-1) ?? '')?.[1] ?? 1);
    const why = said
      .filter((text) => !text.startsWith('Command failed'))
      .join(' ')
      .replace(/^Error: /, '');
    throw new RuntimeError(`ip ${commands[line - 1]}: ${why || `status ${status}`}`);
  }
}
