// A lesson, once taught, is a named function in its step's main.ts, carried into every
// later step as it is: byte for byte, its doc comment included. Should a later step
// have to change one, its course page says why, on a line that names it and says
// "changed" (`pivotInto()` changed: ...). `run` and `child` are each step's outline:
// they change at every step, and the diff shows how.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { listSteps } from '../../steps/list.ts';

const STEPS = join(import.meta.dirname, '../../steps');
const OUTLINE = new Set(['run', 'child']);

/** The top-level functions of a step's program, each with the comment above it. */
function lessons(step: string): Map<string, string> {
  const text = readFileSync(join(STEPS, step, 'main.ts'), 'utf8');
  const found = new Map<string, string>();
  for (const match of text.matchAll(/^(?:\/\*\*.*\*\/\n)?(?:async )?function (\w+)\([\s\S]*?^\}$/gm)) {
    if (!OUTLINE.has(match[1]!)) found.set(match[1]!, match[0]);
  }
  return found;
}

const steps = listSteps();
const pairs = steps.slice(1).map((step, n) => [steps[n]!, step] as const);

it.each(pairs)('what %s taught is carried into %s unchanged, or its page says why', (before, after) => {
  const page = readFileSync(join(STEPS, after, 'README.md'), 'utf8');
  const earlier = lessons(before);
  const changed = [...lessons(after)]
    .filter(([name, text]) => earlier.has(name) && earlier.get(name) !== text)
    .map(([name]) => name)
    .filter((name) => !new RegExp(`\`${name}\\(\\)\`[^\\n]*\\bchanged\\b`).test(page));
  expect(changed).toEqual([]);
});

it('the steps teach in named functions: the last step has one for each lesson since step 05', () => {
  const last = lessons(steps.at(-1)!);
  expect(last.size).toBeGreaterThanOrEqual(8);
});
