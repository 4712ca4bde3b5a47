// An OCI bundle's config.json (runtime-spec 1.0): the fields this runtime reads, and the
// check that refuses, in one line naming it, a field it would otherwise ignore where
// ignoring it would give the container more than its engine asked for.
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { RuntimeError } from '../runtime/errors.ts';
import { checkConfig } from './schema.ts';

export interface Mount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface Process {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: { uid: number; gid: number; umask?: number; additionalGids?: number[] };
  args: string[];
  env?: string[];
  cwd: string;
  capabilities?: Partial<Record<'bounding' | 'effective' | 'inheritable' | 'permitted' | 'ambient', string[]>>;
  rlimits?: { type: string; soft: number; hard: number }[];
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
  apparmorProfile?: string;
  selinuxLabel?: string;
}

interface Namespace {
  type: 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup';
  path?: string;
}

export interface Device {
  type: string; // c, b, u, p
  path: string;
  major?: number;
  minor?: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface DeviceRule {
  allow: boolean;
  type?: string;
  major?: number;
  minor?: number;
  access?: string;
}

export interface Resources {
  devices?: DeviceRule[];
  memory?: {
    limit?: number;
    reservation?: number;
    swap?: number;
    kernel?: number;
    kernelTCP?: number;
    swappiness?: number;
    disableOOMKiller?: boolean;
  };
  cpu?: {
    shares?: number;
    quota?: number;
    period?: number;
    cpus?: string;
    mems?: string;
    realtimeRuntime?: number;
    realtimePeriod?: number;
  };
  pids?: { limit: number };
  [other: string]: unknown;
}

export interface Seccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string; // an engine's agent, which answers SCMP_ACT_NOTIFY: it gets the listener's descriptor
  listenerMetadata?: string; // passed on to it as it is
  syscalls?: {
    names: string[];
    action: string;
    errnoRet?: number;
    args?: { index: number; value: number; valueTwo?: number; op: string }[];
  }[];
}

export interface Config {
  ociVersion: string;
  process?: Process;
  root?: { path: string; readonly?: boolean };
  hostname?: string;
  domainname?: string;
  mounts?: Mount[];
  hooks?: Record<string, unknown[]>;
  annotations?: Record<string, string>;
  linux?: {
    namespaces?: Namespace[];
    uidMappings?: { containerID: number; hostID: number; size: number }[];
    gidMappings?: { containerID: number; hostID: number; size: number }[];
    devices?: Device[];
    cgroupsPath?: string;
    resources?: Resources;
    rootfsPropagation?: string;
    seccomp?: Seccomp;
    sysctl?: Record<string, string>;
    maskedPaths?: string[];
    readonlyPaths?: string[];
    mountLabel?: string;
    [other: string]: unknown;
  };
}

/**
 * The bundle's config (`file`: config.json in it, or crun's --config); `validate`: against
 * the spec's JSON schema too (schema.ts), as `create` reads it (the later verbs read it again).
 */
export function readConfig(bundle: string, file = 'config.json', validate = false): Config {
  const path = isAbsolute(file) ? file : join(bundle, file);
  let config: Config;
  try {
    config = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new RuntimeError(`${path}: ${(error as Error).message}`);
  }
  // The schema (runtime-spec 1.0.2) names only the plain propagations; runc and crun also
  // take the recursive ones (rprivate, ...), and engines write them: checked as their plain form.
  const propagation = config.linux?.rootfsPropagation?.replace(/^r(?=private|shared|slave|unbindable)/, '');
  if (validate) checkConfig(propagation ? { ...config, linux: { ...config.linux, rootfsPropagation: propagation } } : config);
  refuseUnimplemented(config);
  refuseHostSysctls(config);
  return config;
}

// A sysctl belongs to a namespace: written without a new one of its kind, it would change
// the host. (Any other sysctl is the host's: refused too, as runc refuses it.)
const SYSCTL_NAMESPACES: [RegExp, string][] = [
  [/^net\./, 'network'],
  [/^(kernel\.(msg|sem|shm)|fs\.mqueue\.)/, 'ipc'],
  [/^kernel\.(hostname|domainname)$/, 'uts'],
];

function refuseHostSysctls(config: Config): void {
  const own = new Set((config.linux?.namespaces ?? []).filter((ns) => !ns.path).map((ns) => ns.type));
  for (const key of Object.keys(config.linux?.sysctl ?? {})) {
    const kind = SYSCTL_NAMESPACES.find(([pattern]) => pattern.test(key))?.[1];
    if (!kind || !own.has(kind as Namespace['type']) || kind === 'uts') {
      throw new RuntimeError(`config.json: linux.sysctl ${key} would change the host's (it needs a new ${kind ?? 'namespace of its own'})`);
    }
  }
}

// Fields we do not implement, and why each cannot simply be left out.
const REFUSED: [string, (c: Config) => unknown][] = [
  ['linux.resources.blockIO', (c) => c.linux?.resources?.blockIO],
  ['linux.resources.hugepageLimits', (c) => (c.linux?.resources?.hugepageLimits as unknown[] | undefined)?.length],
  ['linux.resources.rdma', (c) => c.linux?.resources?.rdma],
  ['linux.resources.unified', (c) => Object.keys((c.linux?.resources?.unified as object | undefined) ?? {}).length],
  ['linux.intelRdt', (c) => c.linux?.intelRdt],
  ['linux.resources.network', (c) => c.linux?.resources?.network],
  ['linux.personality', (c) => c.linux?.personality],
  ['process.apparmorProfile', (c) => c.process?.apparmorProfile],
  ['process.selinuxLabel', (c) => c.process?.selinuxLabel],
];

/** One line naming the first field set that this runtime would otherwise ignore. */
function refuseUnimplemented(config: Config): void {
  for (const [field, value] of REFUSED) {
    if (value(config)) throw new RuntimeError(`config.json: ${field} is not implemented by this runtime`);
  }
  for (const [kind, hooks] of Object.entries(config.hooks ?? {})) {
    // createContainer and startContainer run inside the container's namespaces: not implemented
    if (hooks.length > 0 && !['prestart', 'createRuntime', 'poststart', 'poststop'].includes(kind))
      throw new RuntimeError(`config.json: hooks.${kind} is not implemented by this runtime`);
  }
}
