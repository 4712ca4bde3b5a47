// The isolation matrix as one page, `npm run matrix -- --html <file> [--lang ja]`: the
// cells the text table prints, from the same run, for an instructor to project or print.
// test/course/matrix.ts measures and fills a MatrixReport; this file says what a cell
// means (the text's marks are read from here too) and writes the page. Pure: it reads
// nothing and writes nothing.
// The page's links are relative: `root` leads from where the page is to the repository,
// whose course pages (steps/<step>/README.md) and probes (test/course/probes.ts#L<n>) they open.
import { type Html, html, type Lang, page } from './page.ts';

/** What a probe gave at a step: its answer, or why it has none. */
export type Measured = { answer: boolean } | { error: string };

/** A cell: what was measured, what the course expects, and whether the answer changed at this step. */
export type MatrixCell = ({ answer: boolean; changed: boolean } | { error: string }) & { expected: boolean };

/**
 * What a cell says, as the text (`yes`, `no*`, `yes✗`, `ERR`) and the page show it: the
 * answer as expected, and then the lesson of its step if it changed there; not as
 * expected; or no answer.
 */
type Verdict = 'as-expected' | 'lesson' | 'unexpected' | 'error';

export interface MatrixRow {
  /** The probe's id in test/course/probes.ts, as `--probes` takes it. */
  id: string;
  /** What it asks, in each language of the page. */
  claim: Record<Lang, string>;
  /** The line of test/course/probes.ts that defines it. */
  line: number;
  /** One per column, in the report's order. */
  cells: MatrixCell[];
}

/** All the page shows. */
export interface MatrixReport {
  /** The columns: the steps' folders, in the course's order. */
  steps: string[];
  /** The rows: the lessons, then the invariants (under their own heading). */
  lessons: MatrixRow[];
  invariants: MatrixRow[];
  /** The options that made it a part of the table (`--steps 9,10`), or ''. */
  asked: string;
  /** The run's time, in seconds, as the text prints it ("80.5"). */
  seconds: string;
  /** Where it ran: the kernel ("Linux 6.12.48 x86_64") and Node ("v24.11.0"). */
  machine: { kernel: string; node: string };
  /** When the run ended (ISO 8601, UTC). */
  date: string;
  /** The repository's root from where the page is ('' in it, else ending in '/'): where its links start. */
  root: string;
}

/**
 * A probe's cells, one per step of `shown`. `changed`: the step before in the `course`
 * is shown too, answered, and answered otherwise.
 */
export function rowCells(
  shown: readonly string[],
  course: readonly string[],
  measured: (step: string) => Measured,
  expected: (step: string) => boolean,
): MatrixCell[] {
  return shown.map((step) => {
    const cell = measured(step);
    if ('error' in cell) return { error: cell.error, expected: expected(step) };
    const before = course[course.indexOf(step) - 1];
    const previous = before !== undefined && shown.includes(before) ? measured(before) : undefined;
    const changed = previous !== undefined && 'answer' in previous && previous.answer !== cell.answer;
    return { answer: cell.answer, changed, expected: expected(step) };
  });
}

/**
 * The line (from 1) where `source`, test/course/probes.ts, defines each probe: in its
 * PROBES, a line that starts with the probe's id as a key (`  'hostname-leaks': {`).
 */
export function definitionLines(source: string): Map<string, number> {
  const lines = source.split('\n');
  const start = lines.findIndex((line) => line.startsWith('export const PROBES = {'));
  const found = new Map<string, number>();
  if (start < 0) return found;
  for (let i = start + 1; i < lines.length && !lines[i]!.startsWith('}'); i++) {
    const id = /^ {2}'([a-z0-9-]+)': /.exec(lines[i]!)?.[1];
    if (id !== undefined && !found.has(id)) found.set(id, i + 1);
  }
  return found;
}

export function verdict(cell: MatrixCell): Verdict {
  if ('error' in cell) return 'error';
  if (cell.answer !== cell.expected) return 'unexpected';
  return cell.changed ? 'lesson' : 'as-expected';
}

/** How many cells, and how many of them are not as expected (no answer counts). */
export function tally(rows: readonly MatrixRow[]): { cells: number; failures: number } {
  const cells = rows.flatMap((row) => row.cells);
  return { cells: cells.length, failures: cells.filter((cell) => verdict(cell) === 'unexpected' || verdict(cell) === 'error').length };
}

/** The table's last line, as the text prints it in English: "560 cells: 559 as expected, 1 not (80.5 s)". */
export function footLine(rows: readonly MatrixRow[], seconds: string, lang: Lang): string {
  const { cells, failures } = tally(rows);
  return lang === 'ja'
    ? `${cells} セル: 期待どおり ${cells - failures}、期待と違う ${failures}（${seconds} 秒）`
    : `${cells} cells: ${cells - failures} as expected, ${failures} not (${seconds} s)`;
}

/** Why each cell with no answer has none, a line each ("14-least-privilege / stdin-passed: ..."), in the table's order. */
export function errorLines(steps: readonly string[], rows: readonly MatrixRow[]): string[] {
  return rows.flatMap((row) =>
    row.cells.flatMap((cell, column) => ('error' in cell ? [`${steps[column]} / ${row.id}: ${cell.error.split('\n')[0]}`] : [])),
  );
}

const WORDS = {
  en: {
    title: 'The isolation matrix',
    course: 'Container from scratch',
    intro: (probes: Html, expectations: Html) =>
      html`Every isolation probe of the test suite, run against every step in a throwaway sandbox: a row per probe (${probes}), a column per step (its course page), the course's expectations in ${expectations}.`,
    asked: 'only those asked for:',
    yes: 'yes',
    no: 'no',
    answer: "the probe's answer, as the course expects",
    lesson: 'changed at this step: its lesson',
    unexpected: 'not as expected',
    error: 'no answer (why: under the table)',
    // What a screen reader says after a cell's answer (unseen).
    changedHere: ' (changed at this step)',
    unexpectedHere: (expected: string) => ` (not as expected: the course expects ${expected})`,
    errorHere: (expected: string) => ` (no answer; the course expects ${expected})`,
    probe: 'probe',
    invariants: 'invariants: every step, as docker run',
    machine: 'ran on',
    focus: 'One step at a time (its lessons, its column):',
    allSteps: 'all',
  },
  ja: {
    title: '分離マトリクス',
    course: 'コンテナを0から作る',
    intro: (probes: Html, expectations: Html) =>
      html`テストスイートのすべての分離プローブを、すべてのステップに対してそれぞれ使い捨てのサンドボックスの中で実行した結果です。行がプローブ（${probes}）、列がステップ（見出しから講座ページへ）で、講座の期待は ${expectations} にあります。`,
    asked: '表の一部だけ:',
    yes: 'はい',
    no: 'いいえ',
    answer: 'プローブの答え（講座の期待どおり）',
    lesson: 'このステップで答えが変わった: そのステップの学び',
    unexpected: '期待と違う答え',
    error: '答えがない（理由は表の下）',
    changedHere: '（このステップで変わった）',
    unexpectedHere: (expected: string) => `（期待と違う答え。講座の期待は「${expected}」）`,
    errorHere: (expected: string) => `（答えがない。講座の期待は「${expected}」）`,
    probe: 'プローブ',
    invariants: '不変の行: どのステップも docker run と同じ',
    machine: '実行したマシン:',
    focus: 'ステップを一つずつ（その学びの行と、その列）:',
    allSteps: 'すべて',
  },
} satisfies Record<Lang, unknown>;

// Large type for a projector; the step columns narrow (their names upright: a number,
// and above it the name, turned), the claims take the rest. yes is
// dark, no light (neither good nor bad: a yes is a leak in one row, a duty in another);
// a lesson has a thick amber ring, red is not as expected, red striped no answer. Each
// also says so in text, so the page reads in greyscale, in print and to a screen reader.
const STYLE = `
:root{font:clamp(15px,1.1vw,26px)/1.3 system-ui,"Noto Sans CJK JP","Hiragino Sans",sans-serif;color:#111;background:#fff;print-color-adjust:exact;-webkit-print-color-adjust:exact}
body{margin:1rem 1.5rem}
h1{font-size:1.6rem;margin:0 0 .3rem}
p{margin:.3rem 0;max-width:70rem}
a{color:inherit;text-decoration-color:#999;text-underline-offset:.15em}
.legend{display:flex;flex-wrap:wrap;gap:.4rem 1.6rem;list-style:none;padding:0;margin:.6rem 0 1rem}
.legend li{display:flex;align-items:center;gap:.4rem}
.c{display:inline-block;min-width:3.4em;padding:.15em .3em;text-align:center;font-weight:600;border:1px solid #888}
table{border-collapse:collapse;width:100%;table-layout:fixed}
col.step{width:3.2em}
:lang(ja) col.step{width:3.7em}
th,td{border:1px solid #888;padding:.2em .35em}
thead th{position:sticky;top:0;background:#fff;vertical-align:bottom;z-index:1}
thead th:first-child{text-align:left}
.s a{display:flex;flex-direction:column-reverse;align-items:center;gap:.3em;text-decoration:none}
.s .name{writing-mode:vertical-rl;font-size:.7em;font-weight:400}
tbody th{text-align:left;font-weight:400}
tbody tr:nth-child(even) th{background:#f1f1f1}
th code{font-size:.7em;color:#444;white-space:nowrap}
td{font-size:.9em;padding:.2em 0;text-align:center;white-space:nowrap;font-weight:600}
:lang(ja) td{font-size:.8em}
.y{background:#1d3f6e;color:#fff}
.n{background:#fff;color:#222}
.l{outline:.25em solid #f0a000;outline-offset:-.25em;font-weight:800}
.n.l{background:#fff0c2}
.x{background:#b3261e;color:#fff}
.e{background:repeating-linear-gradient(135deg,#b3261e 0 .35em,#6e1510 .35em .7em);color:#fff}
.v{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
tbody.invariants th[scope=rowgroup]{background:none;border:none;padding:1em 0 .3em;font-weight:700}
footer{margin-top:1rem}
.focus{margin:0 0 .8rem}
.focus a{display:inline-block;min-width:1.8em;text-align:center}
@media print{:root{font-size:8pt}thead th{position:static}a{text-decoration:none}tr{break-inside:avoid}}
@page{size:landscape;margin:1cm}
`;

/** The page: the table, a legend above it, the counts, the machine and the date below. */
export function renderMatrixPage(report: MatrixReport, lang: Lang): string {
  const w = WORDS[lang];
  const { root } = report;
  const readme = (step: string) => `${root}steps/${step}/README${lang === 'ja' ? '.ja' : ''}.md`;
  const word = (answer: boolean) => (answer ? w.yes : w.no);

  // Each cell and head says its step's column (k01...): the focus on one step (below) picks them.
  const column = (i: number) => `k${report.steps[i]!.split('-')[0]}`;
  const cell = (c: MatrixCell, i: number): Html => {
    const k = column(i);
    if ('error' in c) return html`<td class="e ${k}">ERR<span class="v">${w.errorHere(word(c.expected))}</span></td>`;
    const shade = `${c.answer ? 'y' : 'n'} ${k}`;
    switch (verdict(c)) {
      case 'unexpected':
        return html`<td class="${shade} x">${word(c.answer)}<span aria-hidden="true">✗</span><span class="v">${w.unexpectedHere(word(c.expected))}</span></td>`;
      case 'lesson':
        return html`<td class="${shade} l">${word(c.answer)}<span aria-hidden="true">*</span><span class="v">${w.changedHere}</span></td>`;
      default:
        return html`<td class="${shade}">${word(c.answer)}</td>`;
    }
  };
  const row = (r: MatrixRow): Html =>
    html`<tr><th scope="row"><a href="${root}test/course/probes.ts#L${r.line}">${r.claim[lang]}</a> <code>${r.id}</code></th>${r.cells.map(cell)}</tr>\n`;
  const head = (step: string, i: number): Html => {
    const [number, ...name] = step.split('-');
    return html`<th scope="col" class="s ${column(i)}"><a href="${readme(step)}"><span>${number}</span> <span class="name">${name.join('-')}</span></a></th>`;
  };
  // One step at a time, with no script (the page may run none): a link to #step-NN makes
  // that empty span the :target, and CSS then shows only the rows whose answer changed at
  // that step (its lessons; the invariants stay), and dims every other column.
  const numbers = report.steps.map((step) => step.split('-')[0]!);
  const focusStyle = numbers
    .map(
      (n) =>
        `#step-${n}:target~table tbody:not(.invariants) tr:not(:has(.k${n}.l)){display:none}#step-${n}:target~table :is(td,thead th.s):not(.k${n}){opacity:.35}`,
    )
    .join('\n');
  const rows = [...report.lessons, ...report.invariants];
  const errors = errorLines(report.steps, rows);
  const date = report.date.slice(0, 16).replace('T', ' ');
  const link = (path: string) => html`<a href="${root}${path}"><code>${path}</code></a>`;

  const body = html`<header>
<h1>${w.title} · ${w.course}</h1>
<p>${w.intro(link('test/course/probes.ts'), link('test/course/expectations.ts'))}</p>
${report.asked ? html`<p>${w.asked} <code>${report.asked}</code></p>\n` : ''}<ul class="legend">
<li><span class="c y">${w.yes}</span> <span class="c n">${w.no}</span> ${w.answer}</li>
<li><span class="c n l">${w.no}<span aria-hidden="true">*</span></span> ${w.lesson}</li>
<li><span class="c y x">${w.yes}<span aria-hidden="true">✗</span></span> ${w.unexpected}</li>
<li><span class="c e">ERR</span> ${w.error}</li>
</ul>
<nav class="focus">${w.focus} ${numbers.map((n) => html`<a href="#step-${n}">${n}</a> `)}<a href="#">${w.allSteps}</a></nav>
</header>
<main>
${numbers.map((n) => html`<span id="step-${n}"></span>`)}
<table>
<colgroup><col><col span="${report.steps.length}" class="step"></colgroup>
<thead><tr><th scope="col">${w.probe}</th>${report.steps.map(head)}</tr></thead>
${report.lessons.length > 0 ? html`<tbody>\n${report.lessons.map(row)}</tbody>\n` : ''}${
  report.invariants.length > 0
    ? html`<tbody class="invariants">
<tr><th scope="rowgroup" colspan="${report.steps.length + 1}">${w.invariants}</th></tr>
${report.invariants.map(row)}</tbody>
`
    : ''
}</table>
</main>
<footer>
<p><strong>${footLine(rows, report.seconds, lang)}</strong></p>
${errors.length > 0 ? html`<ul>${errors.map((line) => html`<li>ERR ${line}</li>`)}</ul>\n` : ''}<p>${w.machine} ${report.machine.kernel} · Node ${report.machine.node} · <time datetime="${report.date}">${date} UTC</time></p>
</footer>`;
  return page({ lang, title: `${w.title} · ${w.course}`, style: `${STYLE.trim()}\n${focusStyle}`, body });
}
