// What every step does with bad input and failures, as a user of `docker run` expects:
// a usage line, one-line errors, the right status, never a stack trace.
import { describe, expect, inject, it } from 'vitest';
import { stepNumber } from '../steps/list.ts';
import { EXPECTED, STEPS } from './course/expectations.ts';
import { NO_STACK_TRACE, runtimeLines } from './harness/outcome.ts';
import { inSandbox } from './harness/sandbox.ts';

for (const step of STEPS) {
  const number = stepNumber(step);
  const sandbox = (script: string) => inSandbox(script, { step, ...inject('sandbox') });

  describe.concurrent(`step ${step}: behaviour`, () => {
    it('no command: a usage line and status 2', async () => {
      const outcome = await sandbox('run');
      expect(outcome.status).toBe(2);
      // From step 09 on, options come before the command: [--memory 64m] ... (12+: [-p|--publish 8080:80])
      expect(runtimeLines(outcome.stderr)).toEqual([
        // (10+: the image's own command unless one is given, so [<cmd> [args...]])
        expect.stringMatching(`^usage: npm run step:${number} -- (\\[(-\\w\\|)?--[^\\]]+\\] )*\\[?<cmd>`),
      ]);
      expect(outcome.stdout).toBe('');
    });

    it('an unknown verb: the usage line and status 2', async () => {
      const outcome = await sandbox(`node "steps/${step}/main.ts" start sh`);
      expect(outcome.status).toBe(2);
      expect(runtimeLines(outcome.stderr)).toEqual([expect.stringMatching(/^usage: /)]);
    });

    it('a command that does not exist: one line naming it, status 127', async () => {
      const outcome = await sandbox('run no-such-command --flag');
      expect(outcome.status).toBe(127);
      expect(runtimeLines(outcome.stderr)).toEqual(['no-such-command: command not found']);
    });

    it('a file that is not executable: one line naming it, status 126', async () => {
      const outcome = await sandbox('run /etc/passwd');
      expect(outcome.status).toBe(126);
      expect(runtimeLines(outcome.stderr)).toEqual(['/etc/passwd: permission denied']);
    });

    // Run as `nobody`: a step that needs root says so in one line and never starts
    // the command in the wrong namespace. Step 01 needs no privilege at all, and step
    // 08 runs rootless (a user namespace).
    const rootless = EXPECTED[step]!['runs-rootless'];
    it(rootless ? 'as a normal user: runs' : 'as a normal user: one line that says to use sudo, command not run', async () => {
      const outcome = await sandbox(`as_normal_user env NODE_COMPILE_CACHE= node "steps/${step}/main.ts" run sh -c 'echo command-ran'`);
      expect(outcome.stderr).not.toMatch(NO_STACK_TRACE);
      if (rootless) {
        expect(outcome.status).toBe(0);
        expect(outcome.stdout).toBe('command-ran\n');
      } else {
        expect(outcome.status).toBe(125);
        expect(outcome.stdout).toBe('');
        // unshare's EPERM; from step 09, a mkdir (a cgroup, a writable layer): EACCES.
        const call = EXPECTED[step]!['own-cgroup'] ? '.+: EACCES \\(Permission denied\\)' : 'unshare: EPERM \\(Operation not permitted\\)';
        expect(runtimeLines(outcome.stderr)).toEqual([
          expect.stringMatching(`^${call} - run as root: sudo npm run step:${number} -- sh -c 'echo command-ran'$`),
        ]);
      }
    });

    it('npm run step:N -- <cmd> passes arguments and the exit status through', async () => {
      const outcome = await sandbox(`npm run --silent step:${number} -- sh -c 'echo "$0 $1"; exit 7' hello world`);
      expect(outcome.status).toBe(7);
      expect(outcome.stdout).toBe('hello world\n');
    });
  });
}
