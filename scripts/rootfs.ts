// npm run rootfs: build the container's root filesystem ahead of time (steps 05 and
// later build it on first use). The build itself is in shared/rootfs-build.ts.
// Safe to run again: it only adds what is missing.
import { rootfsDir } from '../shared/config.ts';
import { fail } from '../shared/exit.ts';
import { buildRootfs } from '../shared/rootfs-build.ts';

try {
  buildRootfs(rootfsDir());
  process.stderr.write(`Root filesystem ready at ${rootfsDir()}\n`);
} catch (error) {
  fail(error instanceof Error ? error.message : String(error), 1);
}
