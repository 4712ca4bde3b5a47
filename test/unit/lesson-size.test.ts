// The diff of two consecutive steps is the lesson: one idea, at most 40 changed lines
// of code (comments and blank lines not counted), over every file of the two step
// folders but their course pages, as `npm run diff` shows it.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { listSteps } from '../../steps/list.ts';

const STEPS = join(import.meta.dirname, '../../steps');
const MAX_CODE_LINES = 40;
// Step 15 is another program, not one more idea: the same container side, whose settings
// now come from an engine's config.json, and a runtime of verbs (create, start, exec)
// where step 14 had `run`; the networks, the image and its layers are the engine's now.
// Its page walks through the diff; the limit still keeps it from growing unread.
const LIMITS: Record<string, number> = { '15-oci': 700 }; // ~660: half of it step 14's network code gone (the engine's now)

const program = (step: string) => readdirSync(join(STEPS, step)).filter((name) => !name.endsWith('.md'));
const isComment = (code: string) => /^(\/\/|\/\*\*|\*|#)/.test(code);

/** The changed lines of code between two steps' programs. */
function changedCode(before: string, after: string): string[] {
  const files = [...new Set([...program(before), ...program(after)])];
  return files.flatMap((file) => {
    const [a, b] = [join(STEPS, before, file), join(STEPS, after, file)].map((path) => (existsSync(path) ? path : '/dev/null'));
    // cwd /: no repository to look for (the unit tier also runs as nobody, where git calls ours "dubious")
    const diff = spawnSync('git', ['diff', '--no-index', '-U0', '--', a!, b!], { encoding: 'utf8', cwd: '/' }).stdout;
    return diff
      .split('\n')
      .filter((line) => /^[-+]/.test(line) && !/^(---|\+\+\+) /.test(line))
      .filter((line) => line.slice(1).trim() !== '' && !isComment(line.slice(1).trim()));
  });
}

const steps = listSteps();
const pairs = steps.slice(1).map((step, n) => [steps[n]!, step] as const);

it.each(pairs)(`the diff of %s and %s: at most ${MAX_CODE_LINES} changed lines of code (or its own limit)`, (before, after) => {
  const changed = changedCode(before, after);
  expect(changed.length, changed.join('\n')).toBeLessThanOrEqual(LIMITS[after] ?? MAX_CODE_LINES);
  expect(changed.length).toBeGreaterThan(0); // a step that changes nothing teaches nothing
});

it.each(steps)('%s: its header comment is at most 3 lines; the page has the long why', (step) => {
  const text = readFileSync(join(STEPS, step, 'main.ts'), 'utf8');
  const header = text.split('\n').findIndex((line) => !line.startsWith('//'));
  expect(header).toBeGreaterThan(0);
  expect(header).toBeLessThanOrEqual(3);
});
