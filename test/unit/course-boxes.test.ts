// Every course page opens with the same box, right under its title: the step's new
// kernel calls, a command to try, what you will see, the diff to read, and its man
// pages on man7.org. A learner finds the same five things in the same place on every
// page, in English and in Japanese (docs/instructors.md, "Writing a course page").
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listSteps, stepNumber } from '../../steps/list.ts';

const STEPS_DIR = join(import.meta.dirname, '../../steps');

type Page = 'README.md' | 'README.ja.md';

/** The box's items, in order, as each language names them: `> - **Label:** text`. */
const LABELS: Record<Page, string[]> = {
  'README.md': ['New kernel calls', 'Try', 'You will see', 'The diff', 'Man pages'],
  'README.ja.md': ['新しいカーネル呼び出し', '試す', '見えるもの', '差分', 'man ページ'],
};

const MAX_BOX_LINES = 10; // "about five lines": five items, a few wrapped

const MAN7_LINK = /\]\((https?:\/\/(?:www\.)?man7\.org\/[^)\s]*)\)/g;
// https://man7.org/linux/man-pages/man2/unshare.2.html: the section twice, and the same.
const MAN7_PAGE = /^https:\/\/man7\.org\/linux\/man-pages\/man([1-8])\/[\w.+-]+\.\1[a-z]*\.html$/;

interface Box {
  items: { label: string; text: string }[];
  lines: number;
}

/** The blockquote right under the page's title, or undefined if there is none. */
function readBox(text: string): Box | undefined {
  const lines = text.split('\n');
  if (!lines[0]?.startsWith('# ')) return undefined;
  let i = 1;
  while (i < lines.length && lines[i]!.trim() === '') i++;
  const start = i;
  const items: Box['items'] = [];
  for (; i < lines.length && lines[i]!.startsWith('>'); i++) {
    const item = lines[i]!.match(/^> - \*\*(.+?):\*\*\s*(.*)$/);
    if (item) items.push({ label: item[1]!, text: item[2]! });
    else if (items.length > 0) items.at(-1)!.text += ` ${lines[i]!.replace(/^>\s*/, '')}`;
    else items.push({ label: '', text: lines[i]! }); // a line that is no item: reported below
  }
  return i === start ? undefined : { items, lines: i - start };
}

const man7Links = (text: string) => [...text.matchAll(MAN7_LINK)].map(([, url]) => url!);
const firstCode = (text: string) => text.match(/`([^`]+)`/)?.[1];

/** What is wrong with a page's box; none for a good page. */
function boxProblems(text: string, page: Page, step: number): string[] {
  const box = readBox(text);
  if (!box) return ['no box (a "> - **...:**" blockquote) right under the title'];
  const problems: string[] = [];
  const labels = box.items.map(({ label }) => label);
  if (labels.join('|') !== LABELS[page].join('|'))
    problems.push(`the box's items are [${labels.join(', ')}], not [${LABELS[page].join(', ')}]`);
  if (box.lines > MAX_BOX_LINES) problems.push(`the box has ${box.lines} lines: at most ${MAX_BOX_LINES}`);
  const [, tryIt, , diff, man] = LABELS[page].map((label) => box.items.find((item) => item.label === label)?.text ?? '');
  if (!new RegExp(`\\bnpm run (?:-s )?step:${step} -- `).test(tryIt!))
    problems.push(`the command to try is not this step's: npm run step:${step} -- ...`);
  if (step > 1 && !new RegExp(`\\bnpm run diff -- (?:${step - 1} )?${step}\\b`).test(diff!))
    problems.push(`the diff is not this step's: npm run diff -- ${step}`);
  if (man7Links(man!).length === 0) problems.push('the man pages have no link to man7.org');
  for (const url of man7Links(text)) if (!MAN7_PAGE.test(url)) problems.push(`not a man7.org man page: ${url}`);
  return problems;
}

describe('the box checker', () => {
  const good = [
    '# Step 02 · A UTS namespace',
    '',
    '> - **New kernel calls:** `unshare(CLONE_NEWUTS)`',
    '> - **Try:** `sudo npm run step:2 -- hostname`',
    '> - **You will see:** `container-demo`,',
    '>   on a second line',
    '> - **The diff:** `npm run diff -- 2`',
    '> - **Man pages:** [unshare(2)](https://man7.org/linux/man-pages/man2/unshare.2.html)',
    '',
    '## Try it',
  ].join('\n');

  it('finds nothing wrong with a good box', () => {
    expect(boxProblems(good, 'README.md', 2)).toEqual([]);
  });

  it("finds a missing box, a missing item, another step's command, a broken man7 link", () => {
    expect(boxProblems('# Step 02\n\n## Try it\n', 'README.md', 2)).toHaveLength(1);
    expect(boxProblems(good.replace(/^> - \*\*The diff.*\n/m, ''), 'README.md', 2).join()).toMatch(/items/);
    expect(boxProblems(good, 'README.md', 3).join()).toMatch(/step:3/);
    expect(boxProblems(good.replace('man2/unshare.2', 'man2/unshare.7'), 'README.md', 2).join()).toMatch(/not a man7/);
    expect(boxProblems(good.replace(/\[unshare\(2\)\]\(.*\)/, 'unshare(2)'), 'README.md', 2).join()).toMatch(/no link/);
  });
});

describe('every course page opens with the box', () => {
  for (const step of listSteps()) {
    const pages = (['README.md', 'README.ja.md'] as const).map((page) => ({ page, file: join(STEPS_DIR, step, page) }));
    for (const { page, file } of pages) {
      const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
      const name = `steps/${step}/${page}`;
      it(`${name}: the box, and at least one man7.org link`, () => {
        expect(existsSync(file), `${name} is missing`).toBe(true);
        expect(boxProblems(text, page, stepNumber(step)), name).toEqual([]);
        expect(man7Links(text).length, name).toBeGreaterThan(0);
      });
    }

    const [english, japanese] = pages.map(({ file }) => (existsSync(file) ? readBox(readFileSync(file, 'utf8')) : undefined));
    if (english && japanese) {
      it(`steps/${step}: the Japanese box tries the same command and links the same man pages`, () => {
        const item = (box: Box, index: number, page: Page) => box.items.find(({ label }) => label === LABELS[page][index])?.text ?? '';
        expect(firstCode(item(japanese, 1, 'README.ja.md'))).toBe(firstCode(item(english, 1, 'README.md')));
        expect(man7Links(item(japanese, 4, 'README.ja.md'))).toEqual(man7Links(item(english, 4, 'README.md')));
      });
    }
  }
});
