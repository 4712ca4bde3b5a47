import { describe, expect, inject, it } from 'vitest';
import { stepsWhere } from '../course/expectations.ts';
import { runtimeLines } from '../harness/outcome.ts';
import { inSandbox } from '../harness/sandbox.ts';

for (const step of stepsWhere('root-is-host-root', false)) {
  describe(`step ${step}: where AppArmor restricts user namespaces (Ubuntu >= 23.10)`, () => {
    it('one line that says how to allow them; the command never runs', async () => {
      // This kernel has no such knob: the sandbox (its own mount namespace) puts one
      // where Ubuntu's kernel has it, set as Ubuntu sets it by default.
      const knob = '/proc/sys/kernel/apparmor_restrict_unprivileged_userns';
      const outcome = await inSandbox(`mount -t tmpfs knob /proc/sys/kernel && echo 1 > ${knob} && run sh -c 'echo command-ran'`, {
        step,
        ...inject('sandbox'),
      });
      expect(outcome.status).toBe(125);
      expect(outcome.stdout).toBe('');
      expect(runtimeLines(outcome.stderr)).toEqual([
        `user namespaces are restricted by AppArmor here (${knob} is 1): allow them with sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0 (the course VM does)`,
      ]);
    });
  });
}
