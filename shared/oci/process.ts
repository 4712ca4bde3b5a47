// The container's process as config.json describes it (process.*): its limits by
// name, its capabilities as masks, its program found on its own PATH, and for `exec`,
// the process runc's options describe (--process file, or the command and flags).
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { RuntimeError } from '../runtime/errors.ts';
import { capabilityMask, capabilityName, lastCapability } from '../security/capabilities.ts';
import type { Process } from './config.ts';

// getrlimit(2)'s resources, in the kernel's order.
// biome-ignore format: a table
const RLIMITS = ['CPU', 'FSIZE', 'DATA', 'STACK', 'CORE', 'RSS', 'NPROC', 'NOFILE', 'MEMLOCK', 'AS', 'LOCKS',
  'SIGPENDING', 'MSGQUEUE', 'NICE', 'RTPRIO', 'RTTIME'].map((name) => `RLIMIT_${name}`);

/** "RLIMIT_NOFILE" -> 7 */
export function rlimitNumber(type: string): number {
  const n = RLIMITS.indexOf(type);
  if (n === -1) throw new RuntimeError(`config.json: process.rlimits: unknown type ${type}`);
  return n;
}

/** A mask of the named capabilities this kernel has (runc ignores the ones it lacks, too). */
export function maskOf(names: string[] = []): bigint {
  const known = names.map(capabilityName).filter((name): name is string => name !== undefined);
  return capabilityMask(known) & ((1n << BigInt(lastCapability() + 1)) - 1n);
}

/** Every capability this kernel has, by number: for the bounding set's drops. */
export const capabilityNumbers = () => Array.from({ length: lastCapability() + 1 }, (_, n) => n);

/**
 * Where `name` is, as execvp(3) would find it on the container's PATH (read in its own
 * root, after pivot_root). runc says it the same way, and podman turns "executable file
 * not found" into status 127, "permission denied" into 126.
 */
export function lookPath(name: string, env: string[] = []): string {
  const path = env.find((entry) => entry.startsWith('PATH='))?.slice(5) ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  const candidates = name.includes('/') ? [name] : path.split(':').map((dir) => `${dir || '.'}/${name}`);
  for (const file of candidates) {
    try {
      if (!statSync(file).isFile()) continue;
    } catch {
      continue;
    }
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      throw new RuntimeError(`exec: "${name}": permission denied`);
    }
  }
  throw new RuntimeError(
    name.includes('/') ? `exec: "${name}": no such file or directory` : `exec: "${name}": executable file not found in $PATH`,
  );
}

/** runc exec's options, applied to the container's own process settings. */
export function execProcess(base: Process, command: string[], values: Record<string, unknown>): Process {
  if (values.process) {
    const file = values.process as string;
    try {
      return JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new RuntimeError(`--process ${file}: ${(error as Error).message}`);
    }
  }
  if (command.length === 0) throw new RuntimeError('exec: no command given, and no --process file');
  // --env NAME=value replaces the container's NAME, as in runc
  const added = (values.env as string[] | undefined) ?? [];
  const names = new Set(added.map((entry) => entry.split('=')[0]));
  const env = [...(base.env ?? []).filter((entry) => !names.has(entry.split('=')[0])), ...added];
  const [uid, gid] = ((values.user as string | undefined) ?? `${base.user.uid}:${base.user.gid}`).split(':').map(Number);
  const caps = (values.cap as string[] | undefined) ?? [];
  const add = (set: string[] | undefined) => [...(set ?? []), ...caps];
  return {
    ...base,
    args: command,
    env,
    cwd: (values.cwd as string | undefined) ?? base.cwd,
    terminal: values.tty === true,
    user: {
      ...base.user,
      uid: uid ?? 0,
      gid: gid ?? 0,
      additionalGids: (values['additional-gids'] as string[] | undefined)?.map(Number) ?? base.user.additionalGids,
    },
    noNewPrivileges: values['no-new-privs'] === true || base.noNewPrivileges,
    capabilities:
      base.capabilities && caps.length > 0
        ? {
            bounding: add(base.capabilities.bounding),
            effective: add(base.capabilities.effective),
            permitted: add(base.capabilities.permitted),
            inheritable: base.capabilities.inheritable,
            ambient: base.capabilities.ambient,
          }
        : base.capabilities,
  };
}

/** The environment with HOME, as runc gives it when the config has none: the user's, from the container's /etc/passwd, else /. */
export function withHome(env: string[] = [], uid: number): string[] {
  if (env.some((entry) => entry.startsWith('HOME='))) return env;
  let home = '/';
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.split(':')[2] === `${uid}`);
    home = line?.split(':')[5] || '/';
  } catch {} // no /etc/passwd: /
  return [...env, `HOME=${home}`];
}
