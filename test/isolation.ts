// One describe block per step: every probe, with the answer the step must give.
import { describe, expect, inject, it } from 'vitest';
import { EXPECTED, type Step } from './expectations.ts';
import { PROBES, type ProbeId } from './probes.ts';
import { inSandbox } from './sandbox.ts';

export function describeIsolation(step: Step): void {
  describe.concurrent(`step ${step}: isolation`, () => {
    for (const [id, probe] of Object.entries(PROBES) as [ProbeId, (typeof PROBES)[ProbeId]][]) {
      const want = EXPECTED[step][id];
      it(`${want ? 'yes' : 'no '}: ${probe.claim}`, async () => {
        const outcome = await inSandbox(probe.script, { step, ...inject('sandbox') });
        expect(probe.observe(outcome), `${id}\nstderr: ${outcome.stderr}`).toBe(want);
      });
    }
  });
}
