// The engine's seccomp policy (linux.seccomp), compiled by step 14's filter code: the
// OCI form differs from docker's profile only in its names (architectures, no
// includes/excludes: the engine has already chosen the rules for this container).
// Built programs are kept under the runtime's root, named by a hash of the policy.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Profile } from '../security/seccomp.ts';
import type { Seccomp } from './config.ts';
import type { Saved } from './state.ts';

// Loaded only to build a program not built before: it loads libseccomp (~18 ms of a start).
const builder = () => createRequire(import.meta.url)('../security/seccomp.ts') as typeof import('../security/seccomp.ts');

/** The BPF program (base64) of the config's policy; none when it has none. */
export function seccompProgram(seccomp: Seccomp | undefined, cacheDir: string): string[] {
  if (!seccomp) return [];
  const key = process
    .getBuiltinModule('node:crypto')
    .createHash('sha256')
    .update(JSON.stringify(seccomp))
    .update(process.arch)
    .digest('hex');
  const cached = join(cacheDir, `${key}.bpf`);
  try {
    return [readFileSync(cached, 'utf8')];
  } catch {}
  const profile: Profile = {
    path: 'config.json: linux.seccomp',
    defaultAction: seccomp.defaultAction,
    defaultErrnoRet: seccomp.defaultErrnoRet,
    syscalls: (seccomp.syscalls ?? []).map((rule) => ({
      ...rule,
      args: rule.args?.map((arg) => ({ ...arg, value: BigInt(arg.value), valueTwo: BigInt(arg.valueTwo ?? 0) })),
    })),
    listener: Boolean(seccomp.listenerPath),
  };
  const { bpfProgram, buildFilter, releaseFilter } = builder();
  const filter = buildFilter(profile);
  try {
    const program = bpfProgram(filter).toString('base64');
    try {
      mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
      writeFileSync(`${cached}.${process.pid}`, program);
      renameSync(`${cached}.${process.pid}`, cached);
    } catch {} // a cache only saves time
    return [program];
  } finally {
    releaseFilter(filter);
  }
}

/** The engine's seccomp agent: our socket connected to its listenerPath, and what it gets. */
export interface Agent {
  socket: number;
  message: string;
}

/**
 * What the seccomp agent at listenerPath gets with the listener's descriptor: the spec's
 * "container process state" (the spec's example, and crun, say ociVersion 0.2.0), as JSON.
 */
export function listenerMessage(
  saved: Saved,
  seccomp: Seccomp | undefined,
  pid: number,
  status: 'creating' | 'running',
): string | undefined {
  if (!seccomp?.listenerPath) return undefined;
  const { id, bundle, annotations } = saved;
  return JSON.stringify({
    ociVersion: '0.2.0',
    fds: ['seccompFd'],
    pid,
    metadata: seccomp.listenerMetadata ?? '',
    state: { ociVersion: saved.ociVersion, id, status, pid, bundle, annotations },
  });
}
