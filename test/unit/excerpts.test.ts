// A course page shows the step's code as it is: every ```ts block of a page (EN and JA)
// is a run of consecutive lines of the step's main.ts, byte for byte. A page cannot
// show code the step no longer has.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { listSteps } from '../../steps/list.ts';

const STEPS = join(import.meta.dirname, '../../steps');

const excerpts = (page: string) => [...page.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map(([, code]) => code!.replace(/\n$/, ''));

const pages = listSteps().flatMap((step) => ['README.md', 'README.ja.md'].map((page) => [step, page] as const));

it.each(pages)('%s/%s: its code excerpts are the step’s code', (step, page) => {
  const code = readFileSync(join(STEPS, step, 'main.ts'), 'utf8');
  const stale = excerpts(readFileSync(join(STEPS, step, page), 'utf8')).filter((excerpt) => !code.includes(excerpt));
  expect(stale).toEqual([]);
});

it('the pages show code: at least one excerpt from step 06 on', () => {
  const shown = listSteps().filter((step) => excerpts(readFileSync(join(STEPS, step, 'README.md'), 'utf8')).length > 0);
  expect(shown.length).toBeGreaterThanOrEqual(6);
});
