// The matrix's page (`npm run matrix -- --html <file>`, scripts/report/matrix-page.ts),
// rendered from the course's own table: every cell as test/course/expectations.ts expects
// it, but for one not as expected and one with no answer, so that every kind of cell
// appears. Valid HTML, every step's course page and every probe's code linked, every
// cell in words, the lessons where the table puts them, nothing from the network.
// Nothing is written: the unit tier also runs as nobody, maybe in a checkout it cannot write.
import { existsSync, readFileSync } from 'node:fs';
import { HtmlValidate } from 'html-validate';
import { describe, expect, it } from 'vitest';
import { definitionLines, type MatrixReport, type MatrixRow, renderMatrixPage, rowCells } from '../../scripts/report/matrix-page.ts';
import { escapeHtml, type Lang } from '../../scripts/report/page.ts';
import { CLAIMS_JA } from '../course/claims.ja.ts';
import { EXPECTED, INVARIANTS, STEPS } from '../course/expectations.ts';
import { PROBES, type ProbeId } from '../course/probes.ts';

const REPO = new URL('../../', import.meta.url).pathname;
const PROBES_SOURCE = readFileSync(`${REPO}test/course/probes.ts`, 'utf8').split('\n');
// The table's order, as npm run matrix's: the lessons, then the invariants.
const IDS = [...(Object.keys(PROBES) as ProbeId[]).filter((id) => !INVARIANTS.includes(id)), ...INVARIANTS];

// The two cells not as the course has them: in the last column, whose step changes neither
// row, so that the lessons stay exactly where expectations.ts puts them.
const LAST = STEPS.at(-1)!;
const WRONG: ProbeId = 'exit-status';
const NO_ANSWER: ProbeId = 'stdin-passed';

/** The report of a run whose answers are the course's, but for WRONG and NO_ANSWER; a part of it if `steps` and `ids` say so. */
function courseReport(steps = STEPS, ids = IDS, asked = ''): MatrixReport {
  const lines = definitionLines(PROBES_SOURCE.join('\n'));
  const rows: MatrixRow[] = ids.map((id) => ({
    id,
    claim: { en: PROBES[id].claim, ja: CLAIMS_JA[id] },
    line: lines.get(id) ?? 0,
    cells: rowCells(
      steps,
      STEPS,
      (step) => {
        if (step === LAST && id === NO_ANSWER) return { error: 'no answer after 60 s\nand a second line' };
        return { answer: step === LAST && id === WRONG ? !EXPECTED[step]![id] : EXPECTED[step]![id] };
      },
      (step) => EXPECTED[step]![id],
    ),
  }));
  return {
    steps,
    lessons: rows.filter((row) => !INVARIANTS.includes(row.id as ProbeId)),
    invariants: rows.filter((row) => INVARIANTS.includes(row.id as ProbeId)),
    asked,
    seconds: '80.5',
    machine: { kernel: 'Linux 6.12.48 x86_64', node: 'v24.11.0' },
    date: '2026-12-06T11:52:30.000Z',
    root: '',
  };
}

/** An HTML fragment's text: tags dropped, the escapes of scripts/report/page.ts undone. */
const textOf = (fragment: string) =>
  fragment
    .replace(/<[^>]*>/g, '')
    .replace(/&(lt|gt|quot|#39|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[e]!);

/** The page's rows of probes: the probe's link, id and claim, and each cell's classes and text. */
function probeRows(page: string) {
  return [...page.matchAll(/<tr><th scope="row"><a href="([^"]*)">(.*?)<\/a> <code>([^<]*)<\/code><\/th>(.*?)<\/tr>/g)].map(
    ([, href, claim, id, cells]) => ({
      href: href!,
      claim: claim!,
      id: id! as ProbeId,
      cells: [...cells!.matchAll(/<td class="([^"]*)">(.*?)<\/td>/g)].map(([, classes, inside]) => ({
        // its step's column (k14), which the focus on one step picks, apart from what it says
        column: classes!.split(' ').find((name) => /^k\d+$/.test(name)),
        classes: classes!.split(' ').filter((name) => !/^k\d+$/.test(name)),
        text: textOf(inside!),
        inside: inside!,
      })),
    }),
  );
}

const WORDS: Record<Lang, { yes: string; no: string; unexpected: string; noAnswer: string; readme: string; foot: string }> = {
  en: { yes: 'yes', no: 'no', unexpected: 'not as expected', noAnswer: 'no answer', readme: 'README.md', foot: 'cells:' },
  ja: { yes: 'はい', no: 'いいえ', unexpected: '期待と違う', noAnswer: '答えがない', readme: 'README.ja.md', foot: 'セル:' },
};

it('every probe has its claim in Japanese', () => {
  expect(Object.keys(CLAIMS_JA).sort()).toEqual(Object.keys(PROBES).sort());
  for (const [id, claim] of Object.entries(CLAIMS_JA)) expect(claim, id).toMatch(/[\u3040-\u30ff\u4e00-\u9fff]/);
});

it('a lesson needs the step before in the table: without it, no answer "changed" there', () => {
  const shown = STEPS.filter((step) => /^(09|10)-/.test(step));
  const cells = (id: ProbeId) =>
    rowCells(
      shown,
      STEPS,
      (step) => ({ answer: EXPECTED[step]![id] }),
      (step) => EXPECTED[step]![id],
    );
  expect(cells('own-cgroup').map((cell) => 'answer' in cell && cell.changed)).toEqual([false, false]); // changes at 09, from 08
  expect(cells('writes-reach-rootfs').map((cell) => 'answer' in cell && cell.changed)).toEqual([false, true]); // at 10
});

const validator = new HtmlValidate({ extends: ['html-validate:recommended'] });

/** What html-validate finds wrong with a page, a line each. */
async function problems(page: string): Promise<string[]> {
  const result = await validator.validateString(page);
  return result.results.flatMap((file) => file.messages.map((m) => `${m.line}:${m.column} ${m.ruleId}: ${m.message}`));
}

describe.each(['en', 'ja'] as const)('the matrix page (%s)', (lang) => {
  const report = courseReport();
  const page = renderMatrixPage(report, lang);
  const words = WORDS[lang];
  const rows = probeRows(page);

  it('is valid HTML (html-validate, its recommended rules)', async () => {
    expect(await problems(page)).toEqual([]);
  });

  it('is valid for a part of the table too: the lessons alone, the invariants alone, a few of each', async () => {
    const part = STEPS.filter((step) => /^(01|02|13|14)-/.test(step));
    const some: ProbeId[] = ['hostname-leaks', 'renames-host', 'exit-status'];
    for (const [steps, ids] of [
      [part, some],
      [part, IDS.filter((id) => !INVARIANTS.includes(id))],
      [STEPS, INVARIANTS],
    ] as const) {
      const asked = `--steps ${steps.map((step) => Number(step.slice(0, 2))).join(',')}`;
      const partPage = renderMatrixPage(courseReport(steps, ids, asked), lang);
      expect(await problems(partPage), asked).toEqual([]);
      expect(partPage).toContain(`<code>${asked}</code>`);
      expect(partPage.includes('<tbody class="invariants">'), asked).toBe(ids.some((id) => INVARIANTS.includes(id)));
    }
  });

  it('is one small page that asks the network for nothing', () => {
    expect(page).not.toMatch(/https?:/i);
    expect(page).not.toMatch(/<script|<link|<img|<iframe|src=|@import|url\(/i);
    expect(page).toMatch(/<html lang="(en|ja)">/);
    expect(page).toContain(`<html lang="${lang}">`);
    expect(Buffer.byteLength(page)).toBeLessThan(60 * 1024); // the whole course's table
  });

  it("has a column per step, its head linking to the step's course page", () => {
    const thead = /<thead>(.*?)<\/thead>/s.exec(page)![1]!;
    const links = [...thead.matchAll(/href="([^"]*)"/g)].map(([, href]) => href);
    expect(links).toEqual(STEPS.map((step) => `steps/${step}/${words.readme}`));
    for (const link of links) expect(existsSync(`${REPO}${link}`), link).toBe(true);
  });

  it('has a row per probe, the invariants last, each linking to the line of probes.ts that defines it', () => {
    expect(rows.map((row) => row.id)).toEqual(IDS);
    for (const row of rows) {
      const line = Number(/^test\/course\/probes\.ts#L(\d+)$/.exec(row.href)?.[1]);
      expect(PROBES_SOURCE[line - 1], `${row.id}: ${row.href}`).toMatch(new RegExp(`^ {2}'${row.id}': `));
      expect(row.claim).toBe(escapeHtml(lang === 'ja' ? CLAIMS_JA[row.id] : PROBES[row.id].claim)); // as text, never as HTML
    }
    // The invariants in a <tbody> of their own, under a heading.
    const invariants = /<tbody class="invariants">\n<tr><th scope="rowgroup" colspan="(\d+)">[^<]+<\/th><\/tr>\n(.*?)<\/tbody>/s.exec(page);
    expect(invariants?.[1]).toBe(String(STEPS.length + 1));
    expect(probeRows(invariants![2]!).map((row) => row.id)).toEqual(INVARIANTS);
  });

  it('focuses on one step with no script: a link and a target per step, and the CSS that picks its lessons', () => {
    for (const step of STEPS) {
      const n = step.slice(0, 2);
      expect(page, step).toContain(`<a href="#step-${n}">${n}</a>`);
      expect(page, step).toContain(`<span id="step-${n}"></span>`);
      // the rows without a lesson at this step hidden; the other columns dimmed
      expect(page, step).toContain(`#step-${n}:target~table tbody:not(.invariants) tr:not(:has(.k${n}.l)){display:none}`);
      expect(page, step).toContain(`#step-${n}:target~table :is(td,thead th.s):not(.k${n}){opacity:.35}`);
    }
  });

  it('says every answer in words, marks the one not as expected and the one with none', () => {
    for (const row of rows) {
      expect(row.cells, row.id).toHaveLength(STEPS.length);
      row.cells.forEach((cell, column) => {
        const where = `${row.id} at ${STEPS[column]}`;
        expect(cell.column, where).toBe(`k${STEPS[column]!.slice(0, 2)}`);
        if (row.id === NO_ANSWER && STEPS[column] === LAST) {
          expect(cell.classes, where).toEqual(['e']);
          expect(cell.text, where).toMatch(new RegExp(`^ERR[ (（]+${words.noAnswer}.*${words.yes}`));
          return;
        }
        const expected = EXPECTED[STEPS[column]!]![row.id];
        const answer = row.id === WRONG && STEPS[column] === LAST ? !expected : expected;
        expect(cell.text.startsWith(answer ? words.yes : words.no), `${where}: ${cell.text}`).toBe(true);
        expect(cell.classes[0], where).toBe(answer ? 'y' : 'n');
        const unexpected = answer !== expected;
        expect(cell.classes.includes('x'), where).toBe(unexpected);
        expect(cell.text.includes(words.unexpected), where).toBe(unexpected);
      });
    }
    expect(page).toContain(`<li>ERR ${LAST} / ${NO_ANSWER}: no answer after 60 s</li>`);
  });

  it('marks as lessons exactly the cells where expectations.ts says the answer changes', () => {
    const marked = rows.flatMap((row) =>
      row.cells.flatMap((cell, column) => {
        const lesson = cell.classes.includes('l');
        // The marker: the class (the ring), a "*" seen and not read, and words read and not seen.
        if (lesson) expect(cell.inside).toMatch(/^[^<]+<span aria-hidden="true">\*<\/span><span class="v">.+<\/span>$/);
        else expect(cell.inside).not.toContain('*');
        return lesson ? [`${row.id} at ${STEPS[column]}`] : [];
      }),
    );
    const changes = IDS.flatMap((id) =>
      STEPS.slice(1).flatMap((step, i) => (EXPECTED[step]![id] !== EXPECTED[STEPS[i]!]![id] ? [`${id} at ${step}`] : [])),
    );
    expect(changes.length).toBeGreaterThan(40);
    expect(marked).toEqual(changes.sort((a, b) => IDS.indexOf(a.split(' ')[0] as ProbeId) - IDS.indexOf(b.split(' ')[0] as ProbeId)));
  });

  it('has a legend at the top, and the counts, the machine and the date at the foot', () => {
    const legend = page.indexOf('<ul class="legend">');
    expect(legend).toBeGreaterThan(0);
    expect(legend).toBeLessThan(page.indexOf('<table>'));
    const cells = STEPS.length * IDS.length;
    const foot = page.slice(page.indexOf('<footer>'));
    expect(foot).toContain(
      lang === 'ja'
        ? `${cells} セル: 期待どおり ${cells - 2}、期待と違う 2（80.5 秒）`
        : `${cells} cells: ${cells - 2} as expected, 2 not (80.5 s)`,
    );
    expect(foot).toContain('Linux 6.12.48 x86_64');
    expect(foot).toContain('Node v24.11.0');
    expect(foot).toContain('<time datetime="2026-12-06T11:52:30.000Z">2026-12-06 11:52 UTC</time>');
  });
});
