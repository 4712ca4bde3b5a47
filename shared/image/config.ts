// What an image's config says about how to run it, as `docker run` reads it: the
// command (Entrypoint + Cmd), the environment, the working directory and the user.
// Pulled images have one (the registry's config blob); busybox and imported ones none.
import { lstatSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { RuntimeError } from '../runtime/errors.ts';
import { environmentOf, type Security, type SecurityOptions, securityOf } from '../security/options.ts';
import type { Image } from './store.ts';

/** The part of the OCI image config ("config" in the config blob) a runtime uses. */
export interface ImageConfig {
  Entrypoint?: string[] | string | null; // a list; a string from a careless image
  Cmd?: string[] | string | null;
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
  security?: Security; // step 14+: what root in the container may still do
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'; // docker's

/**
 * The command: Entrypoint, then the one given, else the image's Cmd (docker run's rule).
 * A string where a list belongs is a list of one, as docker reads it (not its letters).
 */
export function imageCommand(config: ImageConfig | undefined, given: string[]): string[] {
  const list = (value: string[] | string | null | undefined) => (typeof value === 'string' ? [value] : (value ?? []));
  return [...list(config?.Entrypoint), ...(given.length > 0 ? given : list(config?.Cmd))];
}

/**
 * The environment, the directory and the user of the command; HOSTNAME is the
 * container's. With step 14's `security` options: an environment of the container's own
 * even for an image without config (PATH, HOSTNAME, HOME, the image's, then -e and
 * --env-file, as docker gives it), never the runtime's; and what its root keeps.
 */
export function processSpec(image: Image, hostname: string, security?: SecurityOptions): ProcessSpec {
  const { config } = image;
  if (!config && !security) return { env: undefined, cwd: '/' };
  const ids = userIds(config?.User, image);
  // HOME as docker sets it: the user's in the image's /etc/passwd, else /
  const home = security && { HOME: lookUp(image, 'passwd', `${ids.uid ?? 0}`, 2)?.[5] || '/' };
  const env: Record<string, string> = { PATH: DEFAULT_PATH, HOSTNAME: hostname, ...home };
  for (const entry of config?.Env ?? []) {
    const equals = entry.indexOf('=');
    if (equals > 0) env[entry.slice(0, equals)] = entry.slice(equals + 1);
  }
  if (!security) return { env, cwd: config?.WorkingDir || '/', ...ids };
  return { env: { ...env, ...environmentOf(security) }, cwd: config?.WorkingDir || '/', ...ids, security: securityOf(security) };
}

const isNumber = (text: string) => /^\d+$/.test(text);

/**
 * "1000", "1000:1000", "app", "app:staff", as docker reads them: a name is looked up in
 * the image's /etc/passwd (uid, and its group) or /etc/group; a number without a group
 * gets group 0.
 */
function userIds(user: string | undefined, image: Image): { uid?: number; gid?: number } {
  if (!user) return {};
  const [name = '', group] = user.split(':');
  const entry = isNumber(name) ? undefined : lookUp(image, 'passwd', name); // name:x:uid:gid:...
  if (!isNumber(name) && !entry) throw new RuntimeError(`the image's user ${name} is not in its /etc/passwd`);
  const uid = Number(entry ? entry[2] : name);
  if (group === undefined) return { uid, gid: Number(entry?.[3] ?? 0) };
  const groupEntry = isNumber(group) ? undefined : lookUp(image, 'group', group); // name:x:gid:members
  if (!isNumber(group) && !groupEntry) throw new RuntimeError(`the image's group ${group} is not in its /etc/group`);
  return { uid, gid: Number(groupEntry ? groupEntry[2] : group) };
}

/** The line whose field `field` (0: the name) is `name` in the image's /etc/<file>: the top layer's file that has one. */
function lookUp(image: Image, file: string, name: string, field = 0): string[] | undefined {
  for (const layer of image.layers) {
    const etc = resolve(image.store, layer, 'etc');
    // lstat: the image's etc or passwd may be a symlink, which would lead into the host's /etc
    if (!lstatSync(etc, { throwIfNoEntry: false })?.isDirectory()) continue;
    const there = lstatSync(`${etc}/${file}`, { throwIfNoEntry: false });
    if (!there) continue;
    if (!there.isFile()) return undefined; // a whiteout, or a symlink
    return readFileSync(`${etc}/${file}`, 'utf8')
      .split('\n')
      .map((line) => line.split(':'))
      .find((fields) => fields[field] === name && fields.length >= 4);
  }
  return undefined;
}
