// The root filesystem every sandbox starts from: built once (by the test run or by
// `npm run matrix`) in a temporary folder, then copied into each sandbox's tmpfs.
import { execFileSync } from 'node:child_process';
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
  return baseRootfs;
}

export function removeBaseRootfs(baseRootfs: string): void {
  rmSync(baseRootfs, { recursive: true, force: true });
}
