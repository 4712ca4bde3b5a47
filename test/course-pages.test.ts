// The course pages cannot drift from the code: every step folder has an English and a
// Japanese page, both show the same transcripts, and every transcript is replayed in a
// sandbox against the real programs (format: see course/transcripts.ts).
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { listSteps } from '../steps/list.ts';
import { fits, readTranscripts, replayScript, splitOutput, type Transcript } from './course/transcripts.ts';
import { courseRegistry } from './harness/registry.ts';
import { inSandbox, REPO } from './harness/sandbox.ts';

const stepFolders = listSteps();

/** Replay a transcript in a fresh sandbox and compare each command's output. */
async function replay(transcript: Transcript, step: string): Promise<void> {
  expect(transcript.entries.length, 'a transcript without a command').toBeGreaterThan(0);
  const marker = `@@transcript-${randomUUID()}`;
  // A transcript that pulls from the course's registry gets one, started first (test/harness/registry.ts).
  const outcome = await inSandbox(courseRegistry(transcript.text) + replayScript(transcript, marker), { step, ...inject('sandbox') });
  const outputs = splitOutput(outcome.stdout, marker, transcript.entries.length, REPO);
  expect(outputs, `the replay stopped early (status ${outcome.status})\n${outcome.stdout}\n${outcome.stderr}`).toBeDefined();
  transcript.entries.forEach((entry, index) => {
    const actual = outputs![index]!;
    if (!fits(entry.expected, actual)) {
      // Fails with a readable diff of what the page says and what the program printed.
      expect(actual.join('\n'), `$ ${entry.command}`).toBe(entry.expected.join('\n'));
    }
  });
}

describe('the transcript format', () => {
  it('<pid> is a number, <any> any text, `...` any lines; spaces compare loosely', () => {
    expect(fits(['Running [ps] as PID <pid>'], ['Running [ps] as PID 4242'])).toBe(true);
    expect(fits(['Running [ps] as PID <pid>'], ['Running [ps] as PID 1a'])).toBe(false);
    expect(fits(['PID COMMAND', '...', '<pid> ps'], ['  PID   COMMAND', '1 init', '2 sh', '   77 ps'])).toBe(true);
    expect(fits(['PID COMMAND', '...', '<pid> ps'], ['PID COMMAND', '77 sh'])).toBe(false);
    expect(fits(['1 <any>'], ['1 /sbin/init splash'])).toBe(true);
    expect(fits(['workshop'], ['workshop', 'one line too many'])).toBe(false);
    expect(fits([], [])).toBe(true);
  });
});

describe('course pages', () => {
  for (const step of stepFolders) {
    const english = join(REPO, 'steps', step, 'README.md');
    const japanese = join(REPO, 'steps', step, 'README.ja.md');

    it(`${step} has a course page in English and in Japanese, with transcripts`, () => {
      expect(existsSync(english), `steps/${step}/README.md`).toBe(true);
      expect(existsSync(japanese), `steps/${step}/README.ja.md`).toBe(true);
      expect(readTranscripts(english).length, `steps/${step}/README.md has no console transcript`).toBeGreaterThan(0);
    });

    if (!existsSync(english)) continue;
    const transcripts = readTranscripts(english);

    if (existsSync(japanese)) {
      it(`${step}: the Japanese page shows the same transcripts`, () => {
        expect(readTranscripts(japanese).map((t) => t.text)).toEqual(transcripts.map((t) => t.text));
      });
    }

    describe.concurrent(`${step} transcripts`, () => {
      for (const transcript of transcripts) {
        const first = transcript.entries[0]?.command ?? '';
        it(`README.md:${transcript.line} $ ${first}`, () => replay(transcript, step));
      }
    });
  }
});
