// npm run rootfs: build the container's root filesystem ahead of time (steps 05 and
// later build it on first use). The build itself is in shared/image/rootfs-build.ts.
// Safe to run again: it only adds what is missing.

import { buildRootfs } from '../shared/image/rootfs-build.ts';
import { rootfsDir } from '../shared/runtime/config.ts';
import { fail, messageOf, parseCommandLine } from './lib/cli.ts';

parseCommandLine('usage: npm run rootfs   (CONTAINERFS=<dir> for another place than /containerfs)', {});
try {
  buildRootfs(rootfsDir());
  process.stderr.write(`Root filesystem ready at ${rootfsDir()}\n`);
} catch (error) {
  fail(messageOf(error));
}
