// Once per test run: refuse to run without root, build one root filesystem that each
// sandbox copies, and check afterwards that the machine is exactly as it was.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { differences, snapshotMachine } from './machine.ts';
import { REPO, RUN_MARKER } from './sandbox.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    sandbox: { baseRootfs: string; runId: string };
  }
}

export default function setup(project: TestProject) {
  if (process.getuid?.() !== 0) {
    console.error('The tests create namespaces and mounts: they need root. Run: sudo npm test');
    process.exit(1);
  }
  const runId = `${process.pid}-${Date.now()}`;
  const marker = `${RUN_MARKER}=${runId}`;
  const before = snapshotMachine(marker);
  const baseRootfs = mkdtempSync(join(tmpdir(), 'cfs-rootfs-'));
  try {
    execFileSync(process.execPath, [join(REPO, 'scripts/rootfs.ts')], {
      env: { ...process.env, CONTAINERFS: baseRootfs },
      stdio: ['ignore', 'ignore', 'inherit'], // its one-line error, if any
    });
  } catch {
    process.exit(1);
  }
  chmodSync(baseRootfs, 0o755); // mkdtemp made it private; it is the container's /
  project.provide('sandbox', { baseRootfs, runId });

  return () => {
    rmSync(baseRootfs, { recursive: true, force: true });
    const changed = differences(before, snapshotMachine(marker));
    if (changed.length > 0) {
      // A throw here is only logged by vitest: fail the run explicitly.
      console.error(`FAIL: the test run changed this machine:\n  ${changed.join('\n  ')}`);
      process.exitCode = 1;
    }
  };
}
