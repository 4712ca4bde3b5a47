// The course on one page, as a person sees it: the pages `npm run matrix -- --html` and
// `npm run bench -- --html` write, made by the real scripts the way an instructor runs
// them, then opened in a real browser (Debian's headless Chromium: scripts/report/browser.ts).
// What is checked is what shows: every step a column, every cell a yes or a no, the
// lessons marked, the anchors apart; and what must not happen: a request leaving the
// page. A screenshot of each page goes to test-results/, which CI keeps (.ci/run).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPage, type Page } from '../../scripts/report/browser.ts';
import { stepNumber } from '../../steps/list.ts';
import { EXPECTED, INVARIANTS, STEPS } from '../course/expectations.ts';
import type { ProbeId } from '../course/probes.ts';
import { REPO, TIME_SCALE } from '../harness/sandbox.ts';

const RESULTS = join(REPO, 'test-results'); // CI keeps this folder
const VIEWPORT = { width: 1200, height: 800 };

// A part of the table, as an instructor would ask for it: step 02's lesson (the
// hostname), step 14's (sethostname refused), and an invariant.
const SHOWN_STEPS = STEPS.filter((step) => [1, 2, 13, 14].includes(stepNumber(step)));
const SHOWN_PROBES: ProbeId[] = ['hostname-leaks', 'renames-host', 'exit-status'];

/** The lesson cells: the course's answer changes from the step before, and that step is shown too. */
const LESSONS = new Set(
  SHOWN_STEPS.flatMap((step) => {
    const before = STEPS[STEPS.indexOf(step) - 1];
    if (before === undefined || !SHOWN_STEPS.includes(before)) return [];
    return SHOWN_PROBES.filter((id) => EXPECTED[step]![id] !== EXPECTED[before]![id]).map((id) => `${step} ${id}`);
  }),
);

const WORDS = {
  en: { yes: 'yes', no: 'no', foot: (n: number) => `${n} cells: ${n} as expected, 0 not` },
  ja: { yes: 'はい', no: 'いいえ', foot: (n: number) => `${n} セル: 期待どおり ${n}、期待と違う 0` },
};

/**
 * The text a person sees in an element: its text, less what takes no room on the screen
 * (the words for a screen reader, in a 1-pixel box, are in innerText too), spaces collapsed.
 * A function's source, for Page.evaluate.
 */
const VISIBLE_TEXT = `function visibleText(node) {
  if (node.nodeType === Node.TEXT_NODE) return node.textContent;
  if (node.nodeType !== Node.ELEMENT_NODE) return '';
  const style = getComputedStyle(node);
  const box = node.getBoundingClientRect();
  if (style.display === 'none' || style.visibility === 'hidden' || box.width <= 1 || box.height <= 1) return '';
  return [...node.childNodes].map(visibleText).join('');
}
const seen = (node) => visibleText(node).replace(/\\s+/g, ' ').trim();`;

/** `expression` evaluated with seen(node), the text a person sees, at hand. */
const look = <T>(page: Page, expression: string) => page.evaluate<T>(`(() => { ${VISIBLE_TEXT}\nreturn ${expression}; })()`);

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'cfs-pages-'));
  mkdirSync(RESULTS, { recursive: true });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A script of the project, run with the project's Node; its stdout, or an error with its last words unless it ends with 0. */
function runScript(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status, signal) => {
      if (status === 0) resolve(stdout);
      else reject(new Error(`node ${args.join(' ')}: ${signal ?? `status ${status}`}\n${stdout.slice(-3000)}\n${stderr.slice(-2000)}`));
    });
  });
}

/** A PNG's size, from its header (IHDR, the first chunk), and its bytes. */
function pngSize(file: string): { width: number; height: number; bytes: number } {
  const data = readFileSync(file);
  expect(data.subarray(0, 8).equals(Buffer.from('\x89PNG\r\n\x1a\n', 'latin1')), `${file}: not a PNG`).toBe(true);
  expect(data.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20), bytes: data.length };
}

/** A screenshot of the whole page in test-results/: an image of the page's size, not blank. */
async function keepScreenshot(page: Page, name: string): Promise<void> {
  const file = join(RESULTS, name);
  rmSync(file, { force: true });
  const [width, height] = await page.evaluate<[number, number]>(
    '[document.documentElement.scrollWidth, document.documentElement.scrollHeight]',
  );
  await page.screenshot(file, { fullPage: true });
  const png = pngSize(file);
  expect(png.bytes, `${name}: a blank page?`).toBeGreaterThan(10_000);
  expect([png.width, png.height]).toEqual([Math.max(width, VIEWPORT.width), height]);
}

describe('npm run matrix -- --html, in a browser', () => {
  for (const lang of ['en', 'ja'] as const) {
    it(
      `${lang}: a column per step, a row per probe, yes or no in every cell, the lessons marked`,
      async () => {
        const words = WORDS[lang];
        const file = join(work, `matrix.${lang}.html`);
        const steps = SHOWN_STEPS.map(stepNumber).join(',');
        // ja: with the README's picture too, as it is made (--png: 1400 CSS pixels at 60 %)
        const png = join(RESULTS, 'matrix.ja.png');
        if (lang === 'ja') rmSync(png, { force: true });
        const picture = lang === 'ja' ? ['--png', png] : [];
        await runScript([
          'test/course/matrix.ts',
          '--steps',
          steps,
          '--probes',
          SHOWN_PROBES.join(','),
          '--lang',
          lang,
          '--html',
          file,
          ...picture,
        ]);

        const page = await openPage(file, VIEWPORT);
        try {
          expect(await page.evaluate('document.documentElement.lang')).toBe(lang);

          // The column heads: the probes' and one per step, its number shown, a link to its course page.
          const heads = await look<{ text: string; href?: string }[]>(
            page,
            `[...document.querySelectorAll('table thead th')].map((th) => ({ text: seen(th), href: th.querySelector('a')?.href }))`,
          );
          expect(heads.length, 'a column per step, after the probes').toBe(SHOWN_STEPS.length + 1);
          SHOWN_STEPS.forEach((step, column) => {
            const head = heads[column + 1]!;
            expect(head.text, `${step}'s head`).toMatch(new RegExp(`(^|\\D)0?${stepNumber(step)}(\\D|$)`));
            expect(head.href).toBe(pathToFileURL(join(REPO, 'steps', step, lang === 'ja' ? 'README.ja.md' : 'README.md')).href);
          });
          if (lang === 'ja') expect(heads[0]!.text, 'the heads in Japanese').toMatch(/[\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Han}]/u);

          // A row per probe (its id shown), the invariants last, in a group of their own
          // under a heading of their own; every cell yes or no, the lessons marked.
          const rows = await look<
            { probe: string; group: number; top: number; bottom: number; cells: { text: string; outline: string }[] }[]
          >(
            page,
            `[...document.querySelectorAll('table tbody tr')].filter((tr) => tr.querySelector('td')).map((tr) => ({
              probe: seen(tr.querySelector('th code')),
              group: [...document.querySelectorAll('table tbody')].indexOf(tr.parentElement),
              top: tr.getBoundingClientRect().top,
              bottom: tr.getBoundingClientRect().bottom,
              cells: [...tr.querySelectorAll('td')].map((td) => ({ text: seen(td), outline: getComputedStyle(td).outlineStyle })),
            }))`,
          );
          expect(rows.map((row) => row.probe)).toEqual(SHOWN_PROBES);
          for (const row of rows) {
            expect(row.cells, `${row.probe}: a cell per step`).toHaveLength(SHOWN_STEPS.length);
            row.cells.forEach((cell, column) => {
              const step = SHOWN_STEPS[column]!;
              const at = `${step} ${row.probe}`;
              const word = EXPECTED[step]![row.probe as ProbeId] ? words.yes : words.no;
              if (LESSONS.has(at)) {
                expect(cell.text, `${at}: the lesson, marked *`).toBe(`${word}*`);
                expect(cell.outline, `${at}: the lesson, ringed`).not.toBe('none');
              } else {
                expect(cell.text, at).toBe(word);
                expect(cell.outline, `${at}: no lesson, no ring`).toBe('none');
              }
            });
          }
          const lessonRows = rows.filter((row) => !INVARIANTS.includes(row.probe as ProbeId));
          const invariantRows = rows.filter((row) => INVARIANTS.includes(row.probe as ProbeId));
          expect(new Set(invariantRows.map((row) => row.group)).size).toBe(1);
          expect(lessonRows.map((row) => row.group)).not.toContain(invariantRows[0]!.group);
          const heading = await look<{ text: string; top: number; bottom: number }>(
            page,
            `(() => { const th = document.querySelector('table tbody th[scope=rowgroup]'); const box = th.getBoundingClientRect();
              return { text: seen(th), top: box.top, bottom: box.bottom }; })()`,
          );
          expect(heading.text, 'the invariants under a heading').not.toBe('');
          expect(heading.top).toBeGreaterThanOrEqual(lessonRows.at(-1)!.bottom - 1);
          expect(heading.bottom).toBeLessThanOrEqual(invariantRows[0]!.top + 1);

          // The foot: the cells counted, all as expected.
          const foot = await look<string>(page, `seen(document.querySelector('footer'))`);
          expect(foot).toContain(words.foot(SHOWN_STEPS.length * SHOWN_PROBES.length));

          if (lang === 'en') await keepScreenshot(page, 'matrix.png');

          // One step at a time, as an instructor clicks its number: only the rows whose
          // answer changed at that step stay (and the invariants), the other columns dimmed.
          for (const [column, step] of SHOWN_STEPS.entries()) {
            const n = step.slice(0, 2);
            await page.evaluate(`(document.querySelector('a[href="#step-${n}"]').click(), 0)`);
            const shown = await look<{ probe: string; opacity: string[] }[]>(
              page,
              `[...document.querySelectorAll('table tbody tr')].filter((tr) => tr.querySelector('td') && seen(tr) !== '').map((tr) => ({
                probe: seen(tr.querySelector('th code')),
                opacity: [...tr.querySelectorAll('td')].map((td) => getComputedStyle(td).opacity),
              }))`,
            );
            const lessonsHere = SHOWN_PROBES.filter((probe) => LESSONS.has(`${step} ${probe}`));
            const kept = SHOWN_PROBES.filter((probe) => lessonsHere.includes(probe) || INVARIANTS.includes(probe as ProbeId));
            expect(
              shown.map((row) => row.probe),
              `focus on ${step}: its lessons and the invariants`,
            ).toEqual(kept);
            for (const row of shown) {
              expect(
                row.opacity.map((o, i) => (i === column ? o === '1' : Number(o) < 1)),
                `focus on ${step}: ${row.probe}`,
              ).not.toContain(false);
            }
          }
          expect(page.requests, 'requests that left the page').toEqual([]);
        } finally {
          await page.close();
        }
        if (lang === 'ja') {
          const { width, bytes } = pngSize(png);
          expect(width).toBe(Math.round(1400 * 0.6));
          expect(bytes, 'matrix.ja.png: a blank page?').toBeGreaterThan(10_000);
        }
      },
      180_000 * TIME_SCALE,
    );
  }
});

describe('npm run bench -- --html, in a browser', () => {
  it(
    'a chart with a bar per contender measured, the anchors apart and hatched',
    async () => {
      const file = join(work, 'bench.html');
      const text = await runScript(['scripts/bench.ts', '--runs', '2', '--warmup', '0', '--html', file]);
      // The contenders measured: the text table's lines with a median (the others say "failed: ...").
      const measured = text
        .split('\n')
        .map((line) => /^\| (.+?) \| ([\d.]+) \|/.exec(line))
        .filter((match) => match !== null)
        .map((match) => match[1]!);
      expect(measured.length, `no contender measured:\n${text}`).toBeGreaterThan(0);

      const page = await openPage(file, VIEWPORT);
      try {
        // The first chart, the time's: on the screen, a bar for each, every bar seen.
        const chart = await page.evaluate<{ width: number; height: number }>(
          `(() => { const { width, height } = document.querySelector('svg').getBoundingClientRect(); return { width, height }; })()`,
        );
        expect(chart.width).toBeGreaterThan(0);
        expect(chart.height).toBeGreaterThan(0);
        const bars = await page.evaluate<{ name: string; width: number; height: number; top: number; fill: string }[]>(
          `[...document.querySelector('svg').querySelectorAll('[data-contender]')].map((bar) => {
            const box = bar.getBoundingClientRect();
            return { name: bar.dataset.contender, width: box.width, height: box.height, top: box.top, fill: bar.getAttribute('fill') };
          })`,
        );
        expect(bars.map((bar) => bar.name).sort()).toEqual([...measured].sort());
        for (const bar of bars) expect(bar.width * bar.height, `${bar.name}: its bar seen`).toBeGreaterThan(0);

        // The anchors (real tools, Node's floors): hatched, under their own heading, below the steps.
        const anchors = bars.filter((bar) => !bar.name.startsWith('step '));
        const steps = bars.filter((bar) => bar.name.startsWith('step '));
        expect(anchors.length, 'the Node floors at least').toBeGreaterThan(0);
        for (const bar of anchors) expect(bar.fill, `${bar.name}: hatched`).toMatch(/^url\(#.*hatch\)$/);
        for (const bar of steps) expect(bar.fill, `${bar.name}: plain`).toMatch(/^#/);
        const groups = await look<{ text: string; top: number }[]>(
          page,
          `[...document.querySelector('svg').querySelectorAll('text.group')].map((t) => ({ text: seen(t), top: t.getBoundingClientRect().top }))`,
        );
        expect(groups.map((group) => group.text)).toEqual(['steps', 'anchors']);
        expect(Math.max(...steps.map((bar) => bar.top))).toBeLessThan(groups[1]!.top);
        expect(Math.min(...anchors.map((bar) => bar.top))).toBeGreaterThan(groups[1]!.top);

        expect(page.requests, 'requests that left the page').toEqual([]);
        await keepScreenshot(page, 'bench.png');
      } finally {
        await page.close();
      }
    },
    300_000 * TIME_SCALE,
  );
});
