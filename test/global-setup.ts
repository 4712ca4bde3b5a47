// Once per test run: refuse to run without root, build one root filesystem that each
// sandbox copies, and check afterwards that the machine is exactly as it was.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { differences, snapshotMachine } from './machine.ts';
import { REPO } from './sandbox.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    baseRootfs: string;
  }
}

export default function setup(project: TestProject) {
  if (process.getuid?.() !== 0) {
    console.error('The tests create namespaces and mounts: they need root. Run: sudo npm test');
    process.exit(1);
  }
  const before = snapshotMachine();
  const baseRootfs = mkdtempSync(join(tmpdir(), 'cfs-rootfs-'));
  execFileSync(process.execPath, [join(REPO, 'scripts/rootfs.ts')], {
    env: { ...process.env, CONTAINERFS: baseRootfs },
    stdio: 'ignore',
  });
  chmodSync(baseRootfs, 0o755); // mkdtemp made it private; it is the container's /
  project.provide('baseRootfs', baseRootfs);

  return () => {
    rmSync(baseRootfs, { recursive: true, force: true });
    const changed = differences(before, snapshotMachine());
    if (changed.length > 0) {
      throw new Error(`The test run changed this machine:\n  ${changed.join('\n  ')}`);
    }
  };
}
