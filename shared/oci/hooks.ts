// config.json's hooks that run on the host, in the runtime's namespaces: prestart and
// createRuntime once the container's namespaces exist (a network plugin configures its
// network namespace then), poststart after `start`, poststop at `delete`. Each gets the
// container's state on stdin; a failing prestart or createRuntime fails `create`.
import { RuntimeError } from '../runtime/errors.ts';
import type { Config } from './config.ts';

interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number; // seconds
}

export type HookKind = 'prestart' | 'createRuntime' | 'poststart' | 'poststop';

/** Run the hooks of `kind`; `mustSucceed`: a failure throws (else it is only reported, as runc does). */
export function runHooks(config: Config, kind: HookKind, state: object, mustSucceed: boolean): void {
  for (const hook of (config.hooks?.[kind] ?? []) as Hook[]) {
    const [argv0 = hook.path, ...args] = hook.args ?? [];
    const result = process.getBuiltinModule('node:child_process').spawnSync(hook.path, args, {
      argv0,
      input: JSON.stringify(state),
      // its own environment when it has one; else ours, as runc and crun give it
      env: hook.env ? Object.fromEntries(hook.env.map((entry) => entry.split(/=(.*)/s, 2))) : process.env,
      timeout: hook.timeout ? hook.timeout * 1000 : undefined,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    // A hook may end without reading the state (/bin/true): EPIPE is no failure of its own.
    const error = (result.error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE' ? undefined : result.error;
    const failed = error?.message ?? (result.status !== 0 ? `exit status ${result.status ?? result.signal}` : '');
    if (failed && mustSucceed) throw new RuntimeError(`${kind} hook ${hook.path}: ${failed}`);
  }
}
