// nftables' `nft`, as shared/network/ip.ts runs `ip`: the rules go in as the text a learner
// would write in a file (`nft -f -`), all of them in one spawn, and the kernel takes
// them as one transaction: all or none. A failure becomes one line.
import { execFileSync } from 'node:child_process';
import { RuntimeError } from '../runtime/errors.ts';

/** Step 12's own table: its rules, and none of the host's, live there. */
export const TABLE = 'container-from-scratch';

/** Run an nft script ("add rule ...", "table ip t { ... }"); return what nft prints. */
export function nft(script: string, options: string[] = []): string {
  return run([...options, '-f', '-'], script);
}

/** Apply a step's ruleset file, its variables given: `nft -D NAME=value ... -f <file>`. */
export function nftFile(file: string, defines: Record<string, string>): string {
  return run([...Object.entries(defines).flatMap(([name, value]) => ['-D', `${name}=${value}`]), '-f', file]);
}

function run(args: string[], input = ''): string {
  try {
    return execFileSync('nft', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (error) {
    const { code, stderr, status } = error as NodeJS.ErrnoException & { stderr?: string; status?: number };
    if (code === 'ENOENT') throw new RuntimeError('nft: not found: install nftables (sudo apt-get install nftables)');
    // nft says "/dev/stdin:3:1-30: Error: why", then the line and a caret: keep the why.
    const why = `${stderr ?? ''}`.split('\n').find((line) => line.includes('Error: '));
    throw new RuntimeError(`nft: ${why?.replace(/^.*?Error: /, '') ?? `status ${status}`}`);
  }
}
