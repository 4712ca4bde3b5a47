// Step 14's options, as docker run reads them, turned into what the child applies:
//   --cap-add NAME|ALL  --cap-drop NAME|ALL  --security-opt seccomp=unconfined|<file>
//   --security-opt no-new-privileges[=true|false]  -e NAME=value|NAME  --env-file <file>
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fsError } from '../kernel/libc.ts';
import type { Flag } from '../runtime/cli.ts';
import { RuntimeError } from '../runtime/errors.ts';
import { ALL_CAPABILITIES, capabilityMask, capabilityName, DOCKER_CAPABILITIES, lastCapability } from './capabilities.ts';
import { DEFAULT_PROFILE, seccompPrograms } from './seccomp.ts';

/** Step 14+: what root in the container keeps, as its first process applies it. */
export interface Security {
  capabilities: string[]; // the names: CAP_CHOWN, ...
  keep: string; // the same as a mask (bit n: capability n), in hex: capset's sets
  drop: number[]; // the others, by number, to the kernel's last: out of the bounding set
  noNewPrivileges: boolean;
  seccomp: string | undefined; // a docker-format profile's path; undefined: no filter (unconfined)
  filters: string[]; // its BPF programs (base64), built by the runtime: the container only loads them
}

export interface SecurityOptions {
  env: string[];
  'env-file': string[];
  'cap-add': string[];
  'cap-drop': string[];
  'security-opt': string[];
  privileged: boolean;
}

const capability = (text: string) => (text.toUpperCase() === 'ALL' ? ['ALL'] : [capabilityName(text)].filter((name) => name !== undefined));
const list = <T>(value: T | undefined) => (value === undefined ? undefined : [value]);

export const SECURITY_FLAGS = {
  env: { short: 'e', repeats: true, example: 'NAME=value', default: [], parse: (text) => list(/^[^=\s]/.test(text) ? text : undefined) },
  'env-file': { repeats: true, example: 'file', default: [], parse: (text) => list(text || undefined) },
  'cap-add': {
    repeats: true,
    example: 'NET_ADMIN',
    default: [],
    parse: (text) => (capability(text).length ? capability(text) : undefined),
  },
  'cap-drop': { repeats: true, example: 'NET_RAW', default: [], parse: (text) => (capability(text).length ? capability(text) : undefined) },
  'security-opt': {
    repeats: true,
    example: 'seccomp=unconfined',
    hint: 'seccomp=unconfined, seccomp=<profile.json>, no-new-privileges[=true|false]',
    default: [],
    parse: (text) => list(/^(seccomp=.+|no-new-privileges(=(true|false))?)$/.test(text) ? text : undefined),
  },
  privileged: {
    hint: 'not in this course: it would give the container back every power step 14 takes away',
    refused: true,
    default: false,
    parse: () => undefined,
  },
} satisfies { [Name in keyof SecurityOptions]: Flag<SecurityOptions[Name]> };

/** What root in the container keeps: docker's defaults, changed by the options, as docker reads them. */
export function securityOf(options: SecurityOptions): Security {
  let kept = new Set(DOCKER_CAPABILITIES);
  if (options['cap-drop'].includes('ALL')) kept = new Set();
  if (options['cap-add'].includes('ALL')) kept = new Set(ALL_CAPABILITIES);
  for (const name of options['cap-drop']) kept.delete(name);
  for (const name of options['cap-add']) if (name !== 'ALL') kept.add(name);
  let seccomp: string | undefined = DEFAULT_PROFILE;
  let noNewPrivileges = true;
  for (const option of options['security-opt']) {
    if (option === 'seccomp=unconfined') seccomp = undefined;
    else if (option.startsWith('seccomp=')) seccomp = resolve(option.slice('seccomp='.length));
    else noNewPrivileges = option !== 'no-new-privileges=false';
  }
  const keep = capabilityMask(kept);
  const drop = [...Array(lastCapability() + 1).keys()].filter((cap) => !(keep & (1n << BigInt(cap))));
  const filters = seccompPrograms({ capabilities: [...kept], seccomp });
  return { capabilities: [...kept], keep: `0x${keep.toString(16)}`, drop, noNewPrivileges, seccomp, filters };
}

/** -e and --env-file, as docker reads them: NAME=value, or NAME (its value from our environment, if we have it). */
export function environmentOf(options: SecurityOptions): Record<string, string> {
  const lines = options['env-file'].flatMap((file) => readEnvFile(file));
  const env: Record<string, string> = {};
  for (const entry of [...lines, ...options.env]) {
    const equals = entry.indexOf('=');
    if (equals > 0) env[entry.slice(0, equals)] = entry.slice(equals + 1);
    else if (process.env[entry] !== undefined) env[entry] = process.env[entry]!;
  }
  return env;
}

function readEnvFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw fsError(`--env-file ${file}`, error);
  }
  // As docker reads it: leading blanks trimmed, blank lines and # comments skipped, a name without blanks.
  const lines = text
    .split('\n')
    .map((line) => line.trimStart())
    .filter((line) => line !== '' && !line.startsWith('#'));
  for (const line of lines) {
    const name = line.split('=')[0]!;
    if (name === '') throw new RuntimeError(`--env-file ${file}: no variable name: ${line}`);
    if (/\s/.test(name)) throw new RuntimeError(`--env-file ${file}: variable '${name}' contains whitespaces`);
  }
  return lines;
}
