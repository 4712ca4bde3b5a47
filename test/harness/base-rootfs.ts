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
  // The probe of the caller's terminal needs its attack: a static C program (gcc, libc6-dev).
  const tiocsti = spawnSync('cc', ['-static', '-Os', '-o', join(baseRootfs, 'bin/tiocsti'), join(REPO, 'test/fixtures/tiocsti.c')], {
    encoding: 'utf8',
  });
  if (tiocsti.status !== 0) {
    process.stderr.write(
      `cc test/fixtures/tiocsti.c failed (sudo apt-get install gcc libc6-dev): ${tiocsti.error?.message ?? tiocsti.stderr}\n`,
    );
    removeBaseRootfs(baseRootfs);
    return false;
  }
  return baseRootfs;
}

export function removeBaseRootfs(baseRootfs: string): void {
  rmSync(baseRootfs, { recursive: true, force: true });
}
