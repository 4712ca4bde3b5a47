// A container in a user namespace of its own (linux.namespaces "user", uidMappings),
// which Node cannot enter: unshare(2) and setns(2) refuse a multithreaded process.
// runc's answer is C that runs before Go starts its threads. Ours, as in step 08: a
// one-threaded helper makes the namespace (util-linux's unshare) or joins it (nsenter),
// and waits there while the runtime writes the maps; then a first Node inside, root
// there, makes the other namespaces and starts the container's process (`userns-stage`).
// (The helper says "userns" once it is in it; the runtime answers "maps" once written.)
// It tells the runtime that process's PID, then leaves, and the engine (a subreaper)
// becomes its parent, as with runc. For `run` it stays: its exit is the container's.
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { writeSync } from 'node:fs';
import { constants } from 'node:os';
import { writeFile } from '../kernel/files.ts';
import { spawnInNamespaces } from '../kernel/namespaces.ts';
import { compileCacheEnv } from '../runtime/compile-cache.ts';
import { KEEP_PATHS, PROJECT_DIR, throughProjectDir } from '../runtime/project-dir.ts';
import type { Config } from './config.ts';
import { RUNTIME_FDS } from './sync.ts';

interface Plan {
  node?: string; // Node, as the helper names it (set here)
  args: string[]; // the process to start, from inside: [main.ts, '--', 'init', dir]
  fresh: number; // the namespaces to make (CLONE_NEW* flags)
  join: { flag: number; path: string }[]; // and to join
  fds: number; // descriptors to pass on: 0 to fds - 1 (the last RUNTIME_FDS the runtime's)
  stay: boolean; // wait for it, and end as it ends
  detached: boolean; // a session of its own (a terminal's)
}

/**
 * Start `plan.args` through a user namespace: a new one (`path` undefined) or the one at
 * `path`. `options`: the helper's stdio and environment, passed on to the process.
 * With a new one, the runtime writes the maps, then "maps" on the sync descriptor.
 */
export function spawnThroughUserNamespace(path: string | undefined, plan: Plan, options: SpawnOptions, config: Config): ChildProcess {
  const sync = plan.fds - RUNTIME_FDS;
  // Root in the namespace is this user on the host: the helper runs as it, and so makes the
  // namespace as it, and its Node is root there once the maps say so. (As step 08: its
  // files named through the project directory, which it may not walk to from /.)
  const owner = { uid: rootOnHost(config.linux?.uidMappings), gid: rootOnHost(config.linux?.gidMappings) };
  const node = [throughProjectDir(process.execPath, owner.uid), ...KEEP_PATHS];
  const stage = {
    ...plan,
    args: [...KEEP_PATHS, ...plan.args.map((arg, i) => (i === 0 ? throughProjectDir(arg, owner.uid) : arg))],
    node: node[0],
  };
  const script = [stage.args[KEEP_PATHS.length]!, '--', 'userns-stage'];
  // nsenter sets user and group 0 in the namespace it joins: Node starts there as root.
  const helper = path
    ? ['nsenter', `--user=${path}`, '--', ...node, ...script]
    : [
        'setpriv',
        `--reuid=${owner.uid}`,
        `--regid=${owner.gid}`,
        '--clear-groups',
        '--',
        'unshare',
        '--user',
        '--',
        '/bin/sh',
        '-c',
        `echo userns >&${sync} && read -r maps <&${sync} && exec "$@"`,
        'sh',
        ...node,
        ...script,
      ];
  const env = path ? options.env : compileCacheEnv(owner, options.env ?? {});
  return process
    .getBuiltinModule('node:child_process')
    .spawn(helper[0]!, helper.slice(1), { ...options, cwd: PROJECT_DIR, env: { ...env, CFS_STAGE: JSON.stringify(stage) } });
}

/** The host ID that is 0 in the namespace (else the first mapped): who its root is. */
function rootOnHost(maps: { containerID: number; hostID: number }[] = []): number {
  return (maps.find(({ containerID }) => containerID === 0) ?? maps[0])?.hostID ?? 65534;
}

/** Who the container's IDs are on the host: config.json's maps, as step 08 writes its own. */
export function writeIdMaps(pid: number, { linux }: Config): void {
  const lines = (maps: { containerID: number; hostID: number; size: number }[] = []) =>
    maps.map(({ containerID, hostID, size }) => `${containerID} ${hostID} ${size}\n`).join('');
  writeFile(`/proc/${pid}/uid_map`, lines(linux?.uidMappings));
  writeFile(`/proc/${pid}/gid_map`, lines(linux?.gidMappings));
}

/** `userns-stage`: inside the user namespace, root there: start the process in the rest. */
export function userNamespaceStage(): void {
  const plan: Plan = JSON.parse(process.env.CFS_STAGE!);
  const env = { ...process.env, CFS_STAGE: undefined };
  const stdio = Array.from({ length: plan.fds }, (_, fd) => fd);
  // No way back into the host's namespaces from here (they are not our user namespace's), and
  // no need: after unshare(CLONE_NEWPID) Node may start no thread, and this one only waits.
  const child = spawnInNamespaces(
    plan.node!,
    plan.args,
    plan.fresh,
    { stdio, env, detached: plan.detached },
    { join: plan.join, stay: true },
  );
  writeSync(plan.fds - RUNTIME_FDS, `pid ${child.pid}\n`); // its PID as the host sees it: we are in the host's PID namespace
  if (!plan.stay) process.exit(0);
  child.on('exit', (code, signal) => process.exit(code ?? 128 + constants.signals[signal!]));
}
