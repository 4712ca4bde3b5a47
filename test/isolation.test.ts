// Every step against every probe (test/course/probes.ts), with the answer the course expects
// of it (test/course/expectations.ts).
import { describe, expect, inject, it } from 'vitest';
import { EXPECTED, INVARIANTS, STEPS } from './course/expectations.ts';
import { PROBES, type ProbeId } from './course/probes.ts';
import { inSandbox } from './harness/sandbox.ts';

for (const step of STEPS) {
  describe.concurrent(`step ${step}: isolation`, () => {
    for (const [id, probe] of Object.entries(PROBES) as [ProbeId, (typeof PROBES)[ProbeId]][]) {
      const want = EXPECTED[step]![id];
      const label = INVARIANTS.includes(id) ? 'invariant' : want ? 'yes' : 'no ';
      it(`${label}: ${probe.claim}`, async () => {
        const outcome = await inSandbox(probe.script, { step, ...inject('sandbox') });
        expect(probe.observe(outcome), `${id}\nstderr: ${outcome.stderr}`).toBe(want);
      });
    }
  });
}
