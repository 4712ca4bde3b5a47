// The course's shape: the step list, the table of expectations, the npm scripts.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dockerLikeSteps, listSteps, stepNumber } from '../../steps/list.ts';
import { answers, CHANGES, EXPECTED, INVARIANTS, STEPS } from '../course/expectations.ts';
import { PROBES } from '../course/probes.ts';

const REPO = new URL('../../', import.meta.url).pathname;

describe('the steps', () => {
  it('are the folders steps/NN-name with a main.ts and course pages in English and Japanese, numbered 1, 2, 3...', () => {
    expect(STEPS.length).toBeGreaterThanOrEqual(11);
    listSteps().forEach((step, index) => {
      expect(stepNumber(step)).toBe(index + 1);
      for (const file of ['main.ts', 'README.md', 'README.ja.md'])
        expect(existsSync(`${REPO}steps/${step}/${file}`), `${step}/${file}`).toBe(true);
    });
    // the matrix's steps: all but the last one, the runtime an engine drives (15-oci)
    expect(listSteps().slice(0, STEPS.length)).toEqual(STEPS);
  });

  it('each has its `npm run step:N` script, which runs it as the learner types it', () => {
    const scripts: Record<string, string> = JSON.parse(readFileSync(`${REPO}package.json`, 'utf8')).scripts;
    // A step an engine drives (15-oci) is its runtime, called with a verb: `npm run step:15 -- spec`.
    const engineDriven = (step: string) => !dockerLikeSteps().includes(step);
    for (const step of listSteps())
      expect(scripts[`step:${stepNumber(step)}`], step).toBe(
        engineDriven(step)
          ? `steps/${step}/runtime`
          : `NODE_COMPILE_CACHE=node_modules/.cache/node-compile-cache node steps/${step}/main.ts -- run`,
      );
    expect(Object.keys(scripts).filter((name) => name.startsWith('step:'))).toHaveLength(listSteps().length);
  });
});

describe('the table of expectations', () => {
  it('a row is the first answer, then the steps where it changes', () => {
    const steps = ['01-a', '02-b', '03-c', '04-d'];
    expect(answers('y', steps)).toEqual([true, true, true, true]);
    expect(answers('y 02:n', steps)).toEqual([true, false, false, false]);
    expect(answers('n 02:y 04:n', steps)).toEqual([false, true, true, false]);
  });

  it('a row that names a step that does not exist, or an answer that is not y/n, does not parse', () => {
    expect(() => answers('y 09:n', ['01-a'])).toThrow('no step 09');
    expect(() => answers('maybe', ['01-a'])).toThrow('y or n expected');
    expect(() => answers('y 01:x', ['01-a'])).toThrow('y or n expected');
  });

  it('has a row for every probe and a probe for every row, and every row parses', () => {
    expect(Object.keys(CHANGES).sort()).toEqual(Object.keys(PROBES).sort());
    for (const row of Object.values(CHANGES)) expect(() => answers(row, STEPS)).not.toThrow();
  });

  it('every step answers every probe', () => {
    for (const step of STEPS) expect(Object.keys(EXPECTED[step]!).sort()).toEqual(Object.keys(PROBES).sort());
  });

  it('the invariants are the rows that never change: exit status, stdout/stderr, stdin', () => {
    expect(INVARIANTS.sort()).toEqual(['exit-status', 'stdin-passed', 'stdout-stderr-separate']);
    for (const step of STEPS) for (const id of INVARIANTS) expect(EXPECTED[step]![id]).toBe(true);
  });

  it('every other row is a lesson: its answer changes at some step', () => {
    for (const [id, row] of Object.entries(CHANGES)) if (row !== 'y') expect(new Set(answers(row, STEPS)).size, id).toBe(2);
  });
});
