// How step 08 gets into a user namespace, which Node cannot create for itself:
// unshare(2) refuses CLONE_NEWUSER to a multithreaded process (EINVAL), and Node
// always runs threads. runc meets the same wall in Go and climbs it with "nsexec",
// C code that runs before the Go runtime starts. Ours is busybox's unshare(1):
//
//   1. unshare(1), single-threaded, makes the user namespace and the others in one
//      unshare(2): the kernel creates the user namespace first and makes it the owner
//      of the others. For a PID namespace it forks, and that first process waits in
//      /bin/sh, holding no privilege at all yet;
//   2. the step, outside, writes its uid and gid maps (/proc/PID/uid_map, gid_map): root
//      inside is an unprivileged user outside (steps/08-user/main.ts);
//   3. start() lets it exec node. Its user ID now maps to 0 inside, so exec gives it
//      every capability in the new namespaces, and still none on the host.
//
// Why busybox's unshare(1), not util-linux's: with --fork, unshare waits for the process
// it forked, then ends the same way, so that the container's status reaches us. When
// that process was killed with SIGKILL (the OOM killer's signal, step 09), util-linux
// 2.38's (Debian 12) cannot: it prints "sigprocmask unblock failed" and exits 1, not
// 137. busybox's can, and busybox-static is installed anyway, for the root filesystem.
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { closeSync, existsSync, readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS } from '../kernel/libc.ts';
import { markedEnv } from '../runtime/child-env.ts';
import { compileCacheEnv } from '../runtime/compile-cache.ts';
import { AlreadyReported, RuntimeError } from '../runtime/errors.ts';
import { atExit } from '../runtime/exit.ts';
import { KEEP_PATHS, PROJECT_DIR, throughProjectDir } from '../runtime/project-dir.ts';
import type { ContainerTerminal } from '../runtime/pty.ts';
import { terminalEnv } from '../runtime/terminal.ts';

/** unshare(1)'s options for our CLONE_NEW* flags (a mask). */
function unshareOptions(flags: number): string[] {
  const options: [number, string[]][] = [
    [CLONE_NEWUTS, ['--uts']],
    [CLONE_NEWIPC, ['--ipc']],
    [CLONE_NEWNET, ['--net']],
    // busybox makes the new mount namespace's mounts private too (its
    // --propagation=unchanged fails); the step's child does it again anyway.
    [CLONE_NEWNS, ['--mount']],
    [CLONE_NEWPID, ['--pid', '--fork']],
  ];
  return ['--user', ...options.filter(([flag]) => flags & flag).flatMap(([, names]) => names)];
}

// The waiting process: tell us its PID as the host sees it (`read` is a shell
// builtin, so /proc/self is the shell itself), wait for "go", then become the command.
const WAIT_FOR_MAPS = 'read -r pid rest </proc/self/stat && echo "$pid" >&4 && read -r go <&3 && exec 3<&- 4>&- && exec "$@"';

/** A container's first process, waiting in its new namespaces for start(). */
export interface WaitingContainer {
  pid: number; // as the host sees it: /proc/<pid>/uid_map is its map
  process: ChildProcess; // the helper (unshare(1)): its exit is the container's
  drained?: Promise<void>; // with a terminal of its own: once all it wrote is out
  start(): void;
}

/**
 * Spawn node `file` (by its path, process.execPath: /proc/self/exe would be the shell
 * that runs it) with `args`, its script first, in a new user namespace plus the namespaces in `flags`, as
 * the host user `owner` when we are root. Resolves once the namespaces exist, with the
 * first process waiting: nothing of `file` runs before start(). `terminal`: its stdio, if
 * it has a terminal of its own (shared/runtime/pty.ts); `env`: the environment it starts
 * with, ours unless the container has its own (a pulled image's).
 */
export function startInUserNamespace(
  file: string,
  args: string[],
  flags: number,
  { terminal, env = process.env, ...owner }: { uid: number; gid: number; terminal?: ContainerTerminal; env?: NodeJS.ProcessEnv },
): Promise<WaitingContainer> {
  refuseIfRestricted();
  // setpriv --pdeathsig: should we be killed (SIGKILL leaves us no time to pass it
  // on), the kernel kills unshare(1) too, and then its child, our PID 1 (shared/runtime/init.ts).
  // env --ignore-signal: the stop signals we pass on (command.ts) must not end unshare(1),
  // and Ctrl-C signals the terminal's whole foreground process group, unshare(1)
  // included. (What it starts inherits the ignoring, but Node undoes it as it starts,
  // and the command, started by Node's spawn, begins with every signal's default.)
  // Node and its script, named so that the container's root reaches them even where it
  // may not walk to them (a checkout under /root): shared/runtime/project-dir.ts.
  const [script, ...rest] = args;
  const node = [throughProjectDir(file, owner.uid), ...KEEP_PATHS, throughProjectDir(script!, owner.uid), ...rest];
  // Each program by its path on our PATH: `env` may have another PATH, or none.
  const unshare = [onPath('busybox'), 'unshare', ...unshareOptions(flags), '--', '/bin/sh', '-c', WAIT_FOR_MAPS, 'sh', ...node];
  const ignore = [onPath('env'), '--ignore-signal=INT,QUIT,TERM,HUP'];
  const stdio: StdioOptions = terminal
    ? [terminal.slave, terminal.slave, process.stderr.isTTY ? terminal.slave : 'inherit', 'pipe', 'pipe']
    : ['inherit', 'inherit', 'inherit', 'pipe', 'pipe'];
  const helper = spawn(onPath('setpriv'), ['--pdeathsig', 'KILL', '--', ...ignore, ...unshare], {
    stdio, // fd 3: "go" to it, fd 4: its PID to us
    cwd: PROJECT_DIR, // where its /proc/self/cwd leads
    env: terminalEnv(compileCacheEnv(owner, markedEnv(env)), terminal !== undefined), // its own compile cache: shared/runtime/compile-cache.ts
    // As root, become that user before unshare(2): the namespaces' creator is then
    // unprivileged too, and its first process has nothing of root's.
    ...(process.getuid!() === 0 ? owner : {}),
  });
  if (terminal) closeSync(terminal.slave); // the container holds its end now
  let started = false;
  // A runtime that fails before start() (a map it could not write) takes it along.
  atExit(() => started || helper.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    helper.on('error', (error) => reject(new RuntimeError(`setpriv (util-linux): ${error.message}`)));
    // unshare(1) has said why on stderr (e.g. user namespaces disabled): the command never ran.
    helper.on('exit', () => reject(new AlreadyReported()));
    let reply = '';
    helper.stdio[4]!.on('data', (chunk) => {
      reply += chunk;
      if (!reply.endsWith('\n')) return;
      resolve({
        pid: Number(reply),
        process: helper,
        drained: terminal?.drained,
        start() {
          started = true;
          (helper.stdio[3] as Writable).end('go\n');
        },
      });
    });
  });
}

/** `name` as a path, from our PATH; as it is when not found (spawn then says ENOENT). */
function onPath(name: string): string {
  const dirs = (process.env.PATH ?? '/usr/bin:/bin').split(':').filter((dir) => dir.startsWith('/'));
  return dirs.map((dir) => `${dir}/${name}`).find((path) => existsSync(path)) ?? name;
}

// Ubuntu (23.10 and later, so the course VM's 24.04) lets AppArmor restrict user
// namespaces: an unprivileged process still gets one, but with no capability in it, so
// the container would fail at sethostname. Our unshare(1) runs unprivileged even under
// sudo (see above). Say so at once, with the fix (the course VM's provisioning applies it).
const APPARMOR_RESTRICTION = '/proc/sys/kernel/apparmor_restrict_unprivileged_userns';

function refuseIfRestricted(): void {
  let restricted = '0'; // the file exists only on kernels with Ubuntu's AppArmor patches
  try {
    restricted = readFileSync(APPARMOR_RESTRICTION, 'utf8').trim();
  } catch {}
  if (restricted !== '0') {
    throw new RuntimeError(
      `user namespaces are restricted by AppArmor here (${APPARMOR_RESTRICTION} is ${restricted}): ` +
        'allow them with sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0 (the course VM does)',
    );
  }
}
