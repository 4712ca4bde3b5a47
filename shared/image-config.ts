// What an image's config says about how to run it, as `docker run` reads it: the
// command (Entrypoint + Cmd), the environment, the working directory and the user.
// Pulled images have one (the registry's config blob); busybox and imported ones none.
import { RuntimeError } from './errors.ts';

/** The part of the OCI image config ("config" in the config blob) a runtime uses. */
export interface ImageConfig {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
}

/** How the container's first command starts: passed to the step's child. */
export interface ProcessSpec {
  env: Record<string, string> | undefined; // undefined: the runtime's own (an image without config)
  cwd: string;
  uid?: number; // undefined: root's (0)
  gid?: number;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'; // docker's

/** The command: Entrypoint, then the one given, else the image's Cmd (docker run's rule). */
export function imageCommand(config: ImageConfig | undefined, given: string[]): string[] {
  return [...(config?.Entrypoint ?? []), ...(given.length > 0 ? given : (config?.Cmd ?? []))];
}

/** The environment, the directory and the user of the command; HOSTNAME is the container's. */
export function processSpec(config: ImageConfig | undefined, hostname: string): ProcessSpec {
  if (!config) return { env: undefined, cwd: '/' };
  const env: Record<string, string> = { PATH: DEFAULT_PATH, HOSTNAME: hostname };
  for (const entry of config.Env ?? []) {
    const equals = entry.indexOf('=');
    if (equals > 0) env[entry.slice(0, equals)] = entry.slice(equals + 1);
  }
  return { env, cwd: config.WorkingDir || '/', ...numericUser(config.User) };
}

/** "1000" (group 0, as docker without a passwd entry), "1000:1000": numbers only. */
function numericUser(user: string | undefined): { uid?: number; gid?: number } {
  if (!user) return {};
  const match = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!match) throw new RuntimeError(`the image's user "${user}" is a name: only numeric users (uid[:gid]) are supported`);
  return { uid: Number(match[1]), gid: Number(match[2] ?? 0) };
}
