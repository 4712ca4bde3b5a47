// How step 08 gets into a user namespace, which Node cannot create for itself:
// unshare(2) refuses CLONE_NEWUSER to a multithreaded process (EINVAL), and Node
// always runs threads. runc meets the same wall in Go and climbs it with "nsexec",
// C code that runs before the Go runtime starts. Ours is util-linux's unshare(1):
//
//   1. unshare(1), single-threaded, makes the user namespace and the others in one
//      unshare(2): the kernel creates the user namespace first and makes it the owner
//      of the others. For a PID namespace it forks, and that first process waits in
//      /bin/sh, holding no privilege at all yet;
//   2. we, outside, write its uid and gid maps (/proc/PID/uid_map, gid_map): root
//      inside is an unprivileged user outside;
//   3. it execs node. Its user ID now maps to 0 inside, so exec gives it every
//      capability in the new namespaces, and still none on the host.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { die, EXIT_RUNTIME } from './errors.ts';
import {
  CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS, fsError,
} from './libc.ts';

/** unshare(1)'s options for our CLONE_NEW* flags (a mask). */
function unshareOptions(flags: number): string[] {
  const options: [number, string[]][] = [
    [CLONE_NEWUTS, ['--uts']],
    [CLONE_NEWIPC, ['--ipc']],
    [CLONE_NEWNET, ['--net']],
    // Leave mount propagation to the child: makeMountsPrivate() is ours to show.
    [CLONE_NEWNS, ['--mount', '--propagation=unchanged']],
    [CLONE_NEWCGROUP, ['--cgroup']],
    [CLONE_NEWPID, ['--pid', '--fork']],
  ];
  return ['--user', ...options.filter(([flag]) => flags & flag).flatMap(([, names]) => names)];
}

// The waiting process: tell us its PID as the host sees it (`read` is a shell
// builtin, so /proc/self is the shell itself), wait for "go", then become the command.
const WAIT_FOR_MAPS = 'read -r pid rest </proc/self/stat && echo "$pid" >&4 && read -r go <&3 && exec 3<&- 4>&- && exec "$@"';

/**
 * Who root in the container is on the host. Started by a normal user (rootless): that
 * user, the only ID the kernel lets it map. Started by root: the user who typed sudo,
 * else nobody. Never root.
 */
export function containerRootOnHost(): { uid: number; gid: number } {
  const uid = process.getuid!();
  if (uid !== 0) return { uid, gid: process.getgid!() };
  const sudoUid = Number(process.env.SUDO_UID);
  const sudoGid = Number(process.env.SUDO_GID);
  if (sudoUid > 0 && sudoGid > 0) return { uid: sudoUid, gid: sudoGid };
  return { uid: 65534, gid: 65534 };
}

/**
 * Spawn `file args` (give node by its path, process.execPath: /proc/self/exe would be
 * the shell that runs it) in a new user namespace plus the namespaces in `flags`.
 * `beforeStart(pid)` runs once the namespaces exist and before the process goes on to
 * exec `file` (step 09 puts it in its cgroup there): `pid` as the host sees it.
 */
export function spawnInUserNamespace(file: string, args: string[], flags: number, beforeStart = (pid: number) => {}): ChildProcess {
  const root = containerRootOnHost();
  // setpriv --pdeathsig: should we be killed (SIGKILL leaves us no time to pass it
  // on), the kernel kills unshare(1) too, and then its child, our PID 1 (shared/init.ts).
  const unshare = ['unshare', ...unshareOptions(flags), '--', '/bin/sh', '-c', WAIT_FOR_MAPS, 'sh', file, ...args];
  const helper = spawn('setpriv', ['--pdeathsig', 'KILL', '--', ...unshare], {
    stdio: ['inherit', 'inherit', 'inherit', 'pipe', 'pipe'], // fd 3: "go" to it, fd 4: its PID to us
    // As root, become that user before unshare(2): the namespaces' creator is then
    // unprivileged too, and its first process has nothing of root's.
    ...(process.getuid!() === 0 ? { uid: root.uid, gid: root.gid } : {}),
  });
  let ready = false;
  // Registered before the caller's handlers, so these run first.
  helper.on('error', (error) => die(`unshare (util-linux): ${error.message}`, EXIT_RUNTIME));
  helper.on('exit', () => {
    // unshare(1) has said why on stderr (e.g. user namespaces disabled): the command never ran.
    if (!ready) process.exit(EXIT_RUNTIME);
  });
  let reply = '';
  helper.stdio[4]!.on('data', (chunk) => {
    reply += chunk;
    if (!reply.endsWith('\n')) return;
    const pid = Number(reply);
    try {
      writeIdMaps(pid, root);
      beforeStart(pid);
    } catch (error) {
      helper.kill('SIGKILL');
      throw error; // reported in one line (shared/cli.ts), status 125
    }
    ready = true;
    // unshare(1) blocks SIGINT and SIGTERM while it waits for its child: signals for
    // the container go straight to its first process (it passes them on to the command).
    helper.kill = (signal) => {
      try {
        return process.kill(pid, signal);
      } catch {
        return false; // it has just ended: its exit is on its way to us
      }
    };
    (helper.stdio[3] as Writable).end('go\n');
  });
  return helper;
}

/**
 * The maps, as the kernel requires: each file written once, in one write, lines of
 * "ID-inside ID-outside count". An unprivileged writer may map only its own IDs, and
 * must first write "deny" to setgroups: otherwise root inside could drop a group that
 * a file's permissions deny access to, and so gain access. We deny it in both modes.
 */
function writeIdMaps(pid: number, root: { uid: number; gid: number }): void {
  write(`/proc/${pid}/uid_map`, `0 ${root.uid} 1\n`);
  write(`/proc/${pid}/setgroups`, 'deny');
  write(`/proc/${pid}/gid_map`, `0 ${root.gid} 1\n`);
}

function write(file: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch (error) {
    throw fsError(`write ${file}`, error);
  }
}
