// Once per test run: refuse to run without root, build one root filesystem that each
// sandbox copies, and check afterwards that the machine is exactly as it was.
import type { TestProject } from 'vitest/node';
import { buildBaseRootfs, removeBaseRootfs } from './base-rootfs.ts';
import { differences, removeCommonCgroupParent, snapshotMachine } from './machine.ts';
import { RUN_MARKER } from './sandbox.ts';

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
  const baseRootfs = buildBaseRootfs();
  if (!baseRootfs) process.exit(1);
  project.provide('sandbox', { baseRootfs, runId });

  return () => {
    removeBaseRootfs(baseRootfs);
    removeCommonCgroupParent(before);
    const changed = differences(before, snapshotMachine(marker));
    if (changed.length > 0) {
      // A throw here is only logged by vitest: fail the run explicitly.
      console.error(`FAIL: the test run changed this machine:\n  ${changed.join('\n  ')}`);
      process.exitCode = 1;
    }
  };
}
