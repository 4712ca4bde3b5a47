// The state directory, CONTAINER_STATE (/var/lib/container-from-scratch), is the
// runtime's own, as docker's /var/lib/docker:
//   images/      the image store, root's only (shared/image/store.ts)
//   containers/  the writable layers (shared/image/writable-layer.ts)
//   running/     the locks of running containers (shared/runtime/liveness.ts)
//   seccomp/     step 14's filters, compiled once (shared/security/seccomp.ts)
// It is 0711: a container's root, an unprivileged user on the host, must pass through
// it to its rootfs/, and may list nothing. A directory that holds anything else
// (CONTAINER_STATE=/var/tmp) is someone else's: refused, never made 0711, never cleaned.
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { fsError } from '../kernel/libc.ts';
import { stateDir } from './config.ts';
import { RuntimeError } from './errors.ts';

const OURS = new Set(['images', 'containers', 'running', 'seccomp']);

/** Whether `dir` is a state directory: root's (or ours), holding only what the runtime puts there. */
export function isStateDir(dir = stateDir()): boolean {
  try {
    const stat = statSync(dir);
    const owner = stat.uid === 0 || stat.uid === process.getuid!();
    return stat.isDirectory() && owner && readdirSync(dir).every((name) => OURS.has(name));
  } catch {
    return false; // not there (yet)
  }
}

/** The state directory, made if missing (0711); one that is not ours stops the runtime. */
export function makeStateDir(): string {
  const dir = stateDir();
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new RuntimeError(`CONTAINER_STATE=${dir}: not a directory`);
  if (existsSync(dir) && !isStateDir(dir)) {
    throw new RuntimeError(`CONTAINER_STATE=${dir}: holds what is not the runtime's: name a directory of its own (it is made)`);
  }
  try {
    mkdirSync(dir, { recursive: true, mode: 0o711 });
    // mkdir's mode went through the umask. (Not root? Then what we make in it says EACCES.)
    if (statSync(dir).uid === process.getuid!()) chmodSync(dir, 0o711);
  } catch (error) {
    throw fsError(`mkdir ${dir}`, error);
  }
  return dir;
}
