// Node's compile cache, for the container's first process too. The npm scripts start
// Node with NODE_COMPILE_CACHE: Node keeps each module it compiles there, type-stripped
// and as V8 code, and the next start compiles nothing. A start without it costs ~70 ms
// more: stripping the types of even one .ts file first loads Node's type stripper (swc,
// compiled to WebAssembly).
//
// From step 08 on, the container's first process is another user on the host than the
// runtime (you, or the first ID of its range: shared/userns/id-ranges.ts). Root's cache is no use
// to it: Node writes each file of it readable by its owner only. So it gets a cache of
// its own, inside ours: <NODE_COMPILE_CACHE>/uid-<its user ID on the host>.
import { lchownSync, mkdirSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import path from 'node:path';
import { PROJECT_DIR, throughProjectDir } from './project-dir.ts';

/**
 * A step run directly (`node steps/05-chroot-proc/main.ts run ...`), without the npm
 * script's NODE_COMPILE_CACHE: too late for this process (Node compiled every module of
 * the step before any of them ran), but the child it re-executes, a second Node, starts
 * from the cache: the project's own, as the npm scripts use.
 */
export function cacheForChildren(): void {
  if (process.env.NODE_COMPILE_CACHE) return;
  const dir = path.join(PROJECT_DIR, 'node_modules/.cache/node-compile-cache');
  if (enableCompileCache(dir).directory) process.env.NODE_COMPILE_CACHE = dir;
}

/**
 * `env` for a Node process that will run as `owner` on the host, with a compile cache
 * that `owner` may read and write (ours, or one of its own inside ours).
 */
export function compileCacheEnv(owner: { uid: number; gid: number }, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const ours = process.env.NODE_COMPILE_CACHE;
  if (!ours) return env; // no cache: Node compiles, and says nothing
  if (owner.uid === process.getuid!()) return { ...env, NODE_COMPILE_CACHE: ours }; // the same user (rootless)
  const theirs = path.resolve(ours, `uid-${owner.uid}`);
  try {
    mkdirSync(theirs, { recursive: true, mode: 0o700 });
    lchownSync(theirs, owner.uid, owner.gid); // lchown: should it be a symlink, never its target
    // Named as that process reaches the project's files: shared/runtime/project-dir.ts.
    return { ...env, NODE_COMPILE_CACHE: throughProjectDir(theirs, owner.uid) };
  } catch {
    return env; // a cache only saves time: without one, Node compiles, and says nothing
  }
}
