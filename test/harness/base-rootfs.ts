// The root filesystem every sandbox starts from: built once (by the test run or by
// `npm run matrix`) in a temporary folder, then copied into each sandbox's tmpfs.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './sandbox.ts';

/** Build a base root filesystem; false when the build failed (it said why on stderr). */
export function buildBaseRootfs(): string | false {
  const baseRootfs = mkdtempSync(join(tmpdir(), 'cfs-rootfs-'));
  try {
    execFileSync(process.execPath, [join(REPO, 'scripts/rootfs.ts')], {
      env: { ...process.env, CONTAINERFS: baseRootfs },
      stdio: ['ignore', 'ignore', 'inherit'], // its one-line error, if any
    });
  } catch {
    removeBaseRootfs(baseRootfs);
    return false;
  }
  chmodSync(baseRootfs, 0o755); // mkdtemp made it private; it is the container's /
  // Probes that need an attack in C, static (gcc, libc6-dev): the caller's terminal's
  // (tiocsti), and the calls step 14 takes away (attempt).
  for (const program of ['tiocsti', 'attempt']) {
    const source = join(REPO, `test/fixtures/${program}.c`);
    const built = spawnSync('cc', ['-static', '-Os', '-o', join(baseRootfs, `bin/${program}`), source], { encoding: 'utf8' });
    if (built.status !== 0) {
      process.stderr.write(
        `cc test/fixtures/${program}.c failed (sudo apt-get install gcc libc6-dev): ${built.error?.message ?? built.stderr}\n`,
      );
      removeBaseRootfs(baseRootfs);
      return false;
    }
  }
  return baseRootfs;
}

export function removeBaseRootfs(baseRootfs: string): void {
  rmSync(baseRootfs, { recursive: true, force: true });
}
