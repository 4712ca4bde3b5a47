// The bench as one page an instructor can project (`npm run bench -- --html <file>`):
// a bar chart of the median start-to-exit time of every step, with the anchors (the
// real tools, the Node floors) on the same axis; a smaller chart of the memory; the
// table the text prints; the machine it ran on. Pure: a BenchReport in, the page's text
// out (scripts/bench.ts measures and builds the report; nothing here measures).
//
// What the charts say in colour they also say in text and in pattern: every bar carries
// its number, the anchors are hatched and grouped under their own heading, and the table
// below holds every number, for greyscale, for a screen reader, and for copying.
import { type Html, html, type Lang, page } from './page.ts';

/** One line of the bench's table. */
export interface BenchContender {
  /** As the text's table names it: `step 14-least-privilege`, `runc run (its default spec)`. */
  name: string;
  /** A step of the course, or an anchor: a tool or a Node floor the steps are compared with. */
  kind: 'step' | 'anchor';
  /** Why it did not run (the table says so; the charts leave it out); then no `time`. */
  failure?: string;
  /** Start to exit of `/bin/true`, ms, over the timed runs: the median, the quartiles around it, the extremes. */
  time?: { median: number; fastest: number; slowest: number; q1: number; q3: number };
  /** Its median over runc's, and over two Node starts'; absent where there is no such base (the text's "-"). */
  vsRunc?: number;
  vsTwoNodes?: number;
  /** While it runs `sleep 0.5`, all its processes together, bytes: peak resident memory (VmHWM), and Pss. */
  memory?: { peakRss: number; pss: number; processes: number };
}

/** All the page shows. */
export interface BenchReport {
  runs: number;
  warmup: number;
  /** The machine, as the text's lines above its table say it. */
  machine: {
    node: string; // v24.22.3
    nodePath: string;
    os: string;
    kernel: string;
    arch: string;
    cores: number;
    cpu: string;
    compileCache: string;
    extraCaCerts: boolean;
  };
  /** The compared tools' `--version` first lines. */
  tools: string[];
  contenders: BenchContender[];
  /** Step 14's median minus step 13's, and minus step 14 unconfined's, ms; when all three ran. */
  leastPrivilege?: { cost: number; filter: number };
  /** The bench's notes about this machine (in English, as the text prints them). */
  notes: string[];
  /** The tools not installed, so not compared, and the Debian/Ubuntu package of each. */
  missing: { tool: string; package: string }[];
}

// The numbers as the text's table writes them.
const ms = (value: number) => value.toFixed(1);
const ratio = (value: number | undefined) => (value === undefined ? '-' : `${value.toFixed(2)}x`);
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

/** Fewer runs than this: the page says its numbers are rough (a median of 2 is no median). */
const FEW_RUNS = 10;

const WORDS = {
  en: {
    title: 'Container from scratch: starting a container, step by step',
    heading: (r: BenchReport) =>
      `/bin/true in a container, start to exit: median of ${r.runs} runs each (after ${r.warmup} warm-up runs), all taking turns.`,
    node: (m: BenchReport['machine']) => `Node ${m.node} (${m.nodePath}); ${m.os}, kernel ${m.kernel}, ${m.arch}, ${m.cores} x ${m.cpu}`,
    cache: (m: BenchReport['machine']) =>
      `NODE_COMPILE_CACHE=${m.compileCache}; NODE_EXTRA_CA_CERTS ${m.extraCaCerts ? 'is set' : 'is not set'}`,
    tools: 'Tools: ',
    time: 'Start to exit',
    timeChart: 'Median time from start to exit of /bin/true in a container, in ms, for every step and every anchor',
    steps: 'steps',
    anchors: 'anchors',
    anchor: 'anchor',
    legendStep: 'step of the course: the median of its runs',
    fewRuns: (runs: number) =>
      `Only ${runs} run${runs === 1 ? '' : 's'} each: the bars and whiskers are rough. For a class, measure with --runs 30 (the default).`,
    legendAnchor: 'anchor, to compare with: a real tool, or the floor of any runtime started by Node (hatched)',
    legendSpread: 'whisker: the middle half of the runs, from the first to the third quartile (the interquartile range)',
    axis: 'ms, start to exit (median)',
    middleHalf: (q1: string, q3: string) => `middle half ${q1} to ${q3} ms`,
    memory: 'Memory',
    memoryChart: 'Memory of each container while it runs sleep 0.5, in MiB: peak RSS and Pss',
    legendRss: 'peak RSS: the sum of the peak resident memory (VmHWM) of every process of the container, runtime included',
    legendPss: 'Pss: their proportional set size, pages shared between processes shared out among them',
    memoryAxis: 'MiB',
    peakRss: 'peak RSS',
    memoryCaption: html`memory: the sum of the peak resident memory (VmHWM) of every process of the container, runtime included, while it runs <code>sleep 0.5</code>.`,
    processes: (n: number) => `${n} ${n === 1 ? 'process' : 'processes'}`,
    numbers: 'The numbers',
    columns: [
      'what',
      'median ms',
      'fastest ms',
      'middle half ms',
      'vs runc',
      'vs two Node starts',
      'memory MiB: peak RSS (processes)',
      'Pss MiB',
    ],
    failed: 'failed: ',
    noRun: 'no run',
    measuredNone: 'No contender ran: nothing to draw.',
    leastPrivilege: (cost: string, filter: string) =>
      `least privilege (step 14 - step 13): ${cost} ms; of it, the seccomp filter (step 14 - unconfined): ${filter} ms`,
    notes: 'Notes',
    missing: (tools: string, packages: string) =>
      `Not installed, so not compared (the bench installs nothing): ${tools}. On Debian/Ubuntu: sudo apt-get install ${packages}`,
  },
  ja: {
    title: 'コンテナを0から作る: ステップごとのコンテナの起動',
    heading: (r: BenchReport) =>
      `コンテナで /bin/true を起動から終了まで: それぞれ ${r.runs} 回の中央値（先に ${r.warmup} 回のウォームアップ）、すべて 1 周ずつ順番に。`,
    node: (m: BenchReport['machine']) => `Node ${m.node}（${m.nodePath}）; ${m.os}、カーネル ${m.kernel}、${m.arch}、${m.cores} × ${m.cpu}`,
    cache: (m: BenchReport['machine']) =>
      `NODE_COMPILE_CACHE=${m.compileCache}; NODE_EXTRA_CA_CERTS は${m.extraCaCerts ? '設定あり' : '設定なし'}`,
    tools: 'ツール: ',
    time: '起動から終了まで',
    timeChart: 'コンテナで /bin/true を起動から終了まで動かす時間の中央値（ms）、すべてのステップと比較対象について',
    steps: 'ステップ',
    anchors: '比較対象',
    anchor: '比較対象',
    legendStep: 'コースのステップ: 測った回の中央値',
    fewRuns: (runs: number) =>
      `それぞれ ${runs} 回だけの測定です。棒もひげも目安にすぎません。授業で見せるなら --runs 30（既定値）で測ってください。`,
    legendAnchor: '比較対象: 実際のツール、または Node で起動するランタイムの下限（斜線）',
    legendSpread: 'ひげ: 真ん中の半分の回、第 1 四分位から第 3 四分位まで（四分位範囲）',
    axis: 'ms、起動から終了まで（中央値）',
    middleHalf: (q1: string, q3: string) => `真ん中の半分 ${q1}〜${q3} ms`,
    memory: 'メモリ',
    memoryChart: 'sleep 0.5 を動かしている間の各コンテナのメモリ（MiB）: ピーク RSS と Pss',
    legendRss: 'ピーク RSS: コンテナのすべてのプロセス（ランタイムを含む）のピーク常駐メモリ（VmHWM）の合計',
    legendPss: 'Pss: それらの比例配分セットサイズ（プロセス間で共有するページを分け合った量）',
    memoryAxis: 'MiB',
    peakRss: 'ピーク RSS',
    memoryCaption: html`メモリ: コンテナが <code>sleep 0.5</code> を動かしている間の、コンテナのすべてのプロセス（ランタイムを含む）のピーク常駐メモリ（VmHWM）の合計。`,
    processes: (n: number) => `${n} プロセス`,
    numbers: '数値',
    columns: [
      '対象',
      '中央値 ms',
      '最速 ms',
      '真ん中の半分 ms',
      'runc 比',
      'Node 2 回起動比',
      'メモリ MiB: ピーク RSS（プロセス数）',
      'Pss MiB',
    ],
    failed: '失敗: ',
    noRun: '一度も動かず',
    measuredNone: 'どの対象も動きませんでした。描くものがありません。',
    leastPrivilege: (cost: string, filter: string) =>
      `最小権限（step 14 - step 13）: ${cost} ms。そのうち seccomp フィルタの分（step 14 - unconfined）: ${filter} ms`,
    notes: '注',
    missing: (tools: string, packages: string) =>
      `インストールされていないので比べていません（ベンチマークは何もインストールしません）: ${tools}。Debian/Ubuntu では: sudo apt-get install ${packages}`,
  },
} satisfies Record<Lang, unknown>;
type Words = (typeof WORDS)['en'];

/** The lines the text prints above its table: what was timed, the machine, the tools. */
export function captionLines(report: BenchReport, lang: Lang): string[] {
  const words: Words = WORDS[lang];
  return [
    words.heading(report),
    words.node(report.machine),
    words.cache(report.machine),
    ...(report.tools.length ? [words.tools + report.tools.join('; ')] : []),
  ];
}

/** The line under the table: what least privilege costs, and what of it is the filter. */
export function leastPrivilegeLine(report: BenchReport, lang: Lang): string | undefined {
  const { leastPrivilege } = report;
  return leastPrivilege && WORDS[lang].leastPrivilege(ms(leastPrivilege.cost), ms(leastPrivilege.filter));
}

// ---------------------------------------------------------------------------------
// The charts: horizontal bars, one row per contender that ran, steps first, then the
// anchors under a heading of their own; one scale from 0 for all; the number at the
// end of every bar. Sizes in SVG units; the page scales the whole to its width.
const COLOUR = {
  step: '#3f6f9f', // a mid blue: mid grey in greyscale, the black whiskers and text readable on it
  anchor: '#b65d00', // orange stripes on white: another hue, and another pattern in greyscale
  light: '#b9d0e6', // Pss: light, outlined
  ink: '#1a1a1a',
  grid: '#d0d0d0',
};
const CHAR = 7.3; // width of a character of the 12-unit monospace labels
const PLOT = 440; // width of the bars' area
const GAP = 8; // between a label and its bar, a bar and its number

interface Bar {
  /** `data-contender`: on the bar of each contender's time, not on the memory's. */
  contender?: string;
  /** Its class, after `bar`: the kind of its contender, or which memory it shows. */
  className: string;
  value: number;
  fill: string;
  stroke?: string;
  text: string;
  title: string;
  whisker?: [number, number];
}
interface Row {
  name: string;
  kind: 'step' | 'anchor';
  bars: Bar[];
}

/** A step 1, 2 or 5 times a power of ten, such that about `count` of them span `max`. */
function tickStep(max: number, count: number): number {
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= raw) ?? 10 * power;
}
const round = (value: number) => Math.round(value * 100) / 100;

function barChart(options: { id: string; rows: Row[]; title: string; axis: string; barHeight: number; words: Words }): Html {
  const { id, rows, title, axis, barHeight, words } = options;
  const max = Math.max(...rows.flatMap((row) => row.bars.flatMap((bar) => [bar.value, ...(bar.whisker ?? [])])));
  const step = tickStep(max > 0 ? max : 1, 6);
  const top = Math.ceil((max > 0 ? max : 1) / step) * step;
  const scale = (value: number) => round((value / top) * PLOT); // a length: a bar's width
  const left = Math.max(120, Math.ceil(Math.max(...rows.map((row) => row.name.length), words.anchors.length * 2) * CHAR) + GAP);
  const at = (value: number) => round(left + scale(value)); // a place: the x of `value`
  const valueWidth = Math.max(...rows.flatMap((row) => row.bars.map((bar) => bar.text.length))) * CHAR + GAP + 4;
  const width = left + PLOT + GAP + valueWidth;
  const barsInRow = rows[0]?.bars.length ?? 1;
  const rowHeight = 10 + barsInRow * barHeight + (barsInRow - 1) * 2;

  const parts: Html[] = [];
  let y = 4;
  for (const kind of ['step', 'anchor'] as const) {
    const group = rows.filter((row) => row.kind === kind);
    if (group.length === 0) continue;
    y += 16;
    parts.push(html`<text class="group" x="0" y="${y}">${kind === 'step' ? words.steps : words.anchors}</text>`);
    y += 6;
    for (const row of group) {
      const bars = row.bars.map((bar, i) => {
        const barY = y + 5 + i * (barHeight + 2);
        const middle = round(barY + barHeight / 2);
        const end = Math.max(scale(bar.value), ...(bar.whisker ?? []).map(scale));
        const whisker = bar.whisker
          ? html`<path class="whisker" d="M${at(bar.whisker[0])} ${middle}H${at(bar.whisker[1])}M${at(bar.whisker[0])} ${round(middle - 4)}v8M${at(bar.whisker[1])} ${round(middle - 4)}v8" stroke="${COLOUR.ink}" stroke-width="1.5" fill="none"/>`
          : '';
        return html`<rect class="bar ${bar.className}"${bar.contender === undefined ? '' : html` data-contender="${bar.contender}"`} x="${left}" y="${barY}" width="${scale(bar.value)}" height="${barHeight}" fill="${bar.fill}"${
          bar.stroke ? html` stroke="${bar.stroke}"` : ''
        }><title>${bar.title}</title></rect>${whisker}<text class="value" x="${round(left + end + GAP)}" y="${round(middle + 4)}">${bar.text}</text>`;
      });
      parts.push(
        html`<g class="row ${row.kind}"><text class="name" x="${left - GAP}" y="${round(y + rowHeight / 2 + 4)}" text-anchor="end">${row.name}</text>${bars}</g>`,
      );
      y += rowHeight;
    }
  }
  // The axis: a line, ticks every `step` with their numbers, light grid lines up the chart, and its title.
  const ticks: Html[] = [];
  for (let value = 0; value <= top + step / 2; value += step) {
    const x = at(value);
    const label = Number(value.toFixed(6)).toString();
    ticks.push(
      html`<line class="grid" x1="${x}" y1="20" x2="${x}" y2="${y + 4}" stroke="${COLOUR.grid}"/><line x1="${x}" y1="${y + 4}" x2="${x}" y2="${y + 9}" stroke="${COLOUR.ink}"/><text class="tick" x="${x}" y="${y + 22}" text-anchor="middle">${label}</text>`,
    );
  }
  const height = y + 48;
  const hatched = rows.some((row) => row.bars.some((bar) => bar.fill === `url(#${id}-hatch)`));
  const describe = rows.map(
    (row) => `${row.kind === 'anchor' ? `${words.anchor}: ` : ''}${row.name}: ${row.bars.map((bar) => bar.title).join(', ')}`,
  );
  return html`<svg class="chart" viewBox="0 0 ${round(width)} ${height}" width="${round(width)}" height="${height}" role="img" aria-label="${title}">
<title>${title}</title>
<desc>${describe.join('; ')}</desc>
${hatched ? html`<defs><pattern id="${id}-hatch" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/><rect width="3" height="6" fill="${COLOUR.anchor}"/></pattern></defs>\n` : ''}${ticks}
<line class="axis" x1="${left}" y1="${y + 4}" x2="${left + PLOT}" y2="${y + 4}" stroke="${COLOUR.ink}"/>
<text class="axis-title" x="${left + PLOT / 2}" y="${y + 42}" text-anchor="middle">${axis}</text>
${parts}
</svg>`;
}

/** A legend's entry: a swatch drawn by the style (hidden from screen readers: the words say it), and its words. */
function legendEntry(swatch: string, words: string): Html {
  return html`<li><span class="swatch ${swatch}" aria-hidden="true"></span> ${words}</li>`;
}

function timeFigure(report: BenchReport, words: Words, lang: Lang): Html {
  const ran = report.contenders.filter((c) => c.time && !c.failure);
  const rows: Row[] = ran.map(({ name, kind, time }) => ({
    name,
    kind,
    bars: [
      {
        contender: name,
        className: kind,
        value: time!.median,
        fill: kind === 'anchor' ? 'url(#time-hatch)' : COLOUR.step,
        stroke: kind === 'anchor' ? COLOUR.anchor : undefined,
        text: `${ms(time!.median)} ms`,
        title: `${ms(time!.median)} ms (${words.middleHalf(ms(time!.q1), ms(time!.q3))})`,
        whisker: [time!.q1, time!.q3],
      },
    ],
  }));
  const legend = html`<ul class="legend">
${legendEntry('step', words.legendStep)}
${legendEntry('anchor', words.legendAnchor)}
${legendEntry('whisker', words.legendSpread)}
</ul>`;
  const caption = captionLines(report, lang).map((line, i) => (i === 0 ? html`<strong>${line}</strong>` : html`<br>${line}`));
  return html`<figure>
${legend}
${rows.length ? barChart({ id: 'time', rows, title: words.timeChart, axis: words.axis, barHeight: 16, words }) : html`<p>${words.measuredNone}</p>`}
<figcaption>${caption}</figcaption>
</figure>`;
}

function memoryFigure(report: BenchReport, words: Words): Html {
  const rows: Row[] = report.contenders
    .filter((c) => c.time && !c.failure && c.memory)
    .map(({ name, kind, memory }) => ({
      name,
      kind,
      bars: [
        {
          className: 'rss',
          value: memory!.peakRss / 2 ** 20,
          fill: COLOUR.step,
          text: `${mib(memory!.peakRss)} MiB`,
          title: `${words.peakRss} ${mib(memory!.peakRss)} MiB (${words.processes(memory!.processes)})`,
        },
        {
          className: 'pss',
          value: memory!.pss / 2 ** 20,
          fill: COLOUR.light,
          stroke: COLOUR.step,
          text: `${mib(memory!.pss)} MiB`,
          title: `Pss ${mib(memory!.pss)} MiB`,
        },
      ],
    }));
  if (rows.length === 0) return html``;
  const legend = html`<ul class="legend">
${legendEntry('rss', words.legendRss)}
${legendEntry('pss', words.legendPss)}
</ul>`;
  return html`<section>
<h2>${words.memory}</h2>
<figure>
${legend}
${barChart({ id: 'memory', rows, title: words.memoryChart, axis: words.memoryAxis, barHeight: 9, words })}
<figcaption>${words.memoryCaption}</figcaption>
</figure>
</section>`;
}

function table(report: BenchReport, words: Words): Html {
  const head = html`<tr>${words.columns.map((column) => html`<th scope="col">${column}</th>`)}</tr>`;
  const line = (c: BenchContender): Html => {
    if (c.failure || !c.time) {
      return html`<tr class="failed"><th scope="row">${c.name}</th><td colspan="${words.columns.length - 1}">${words.failed}${c.failure ?? words.noRun}</td></tr>`;
    }
    const { median, fastest, q1, q3 } = c.time;
    const memory = c.memory
      ? html`<td>${mib(c.memory.peakRss)} (${c.memory.processes})</td><td>${mib(c.memory.pss)}</td>`
      : html`<td>-</td><td>-</td>`;
    return html`<tr><th scope="row">${c.name}</th><td>${ms(median)}</td><td>${ms(fastest)}</td><td>${ms(q1)}–${ms(q3)}</td><td>${ratio(c.vsRunc)}</td><td>${ratio(c.vsTwoNodes)}</td>${memory}</tr>`;
  };
  const groups = (['step', 'anchor'] as const).map((kind) => {
    const group = report.contenders.filter((c) => c.kind === kind);
    if (group.length === 0) return html``;
    return html`<tbody class="${kind}">
<tr class="group"><th scope="rowgroup" colspan="${words.columns.length}">${kind === 'step' ? words.steps : words.anchors}</th></tr>
${group.map((c) => html`${line(c)}\n`)}</tbody>`;
  });
  return html`<table>
<thead>${head}</thead>
${groups}
</table>`;
}

const STYLE = `
:root { color: #1a1a1a; background: #ffffff; font: 18px/1.45 system-ui, sans-serif; }
body { margin: 1.5rem auto; max-width: 72rem; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 1rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 0.5rem; }
figure { margin: 0; }
figcaption { font-size: 0.85rem; color: #333333; margin-top: 0.5rem; }
.chart { display: block; width: 100%; height: auto; font-size: 12px; }
.chart text { fill: #1a1a1a; }
.chart .name, .chart .value { font-family: ui-monospace, monospace; }
.chart .group { font-weight: bold; font-size: 13px; }
.chart .axis-title { font-size: 13px; }
.legend { list-style: none; padding: 0; margin: 0 0 0.5rem; font-size: 0.85rem; }
.legend li { margin: 0.15rem 0; }
.swatch { display: inline-block; width: 1.6em; height: 0.8em; vertical-align: middle; box-sizing: border-box; print-color-adjust: exact; }
.swatch.step, .swatch.rss { background: ${COLOUR.step}; }
.swatch.anchor { border: 1px solid ${COLOUR.anchor}; background: repeating-linear-gradient(45deg, ${COLOUR.anchor} 0 2px, #ffffff 2px 4.2px); }
.swatch.whisker { border-inline: 2px solid ${COLOUR.ink}; background: linear-gradient(${COLOUR.ink}, ${COLOUR.ink}) center / 100% 2px no-repeat; }
.swatch.pss { border: 1px solid ${COLOUR.step}; background: ${COLOUR.light}; }
table { border-collapse: collapse; font-size: 0.85rem; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #b0b0b0; padding: 0.2rem 0.5rem; }
thead th { background: #eeeeee; vertical-align: bottom; }
td { text-align: right; }
th[scope="row"] { text-align: left; font-weight: normal; font-family: ui-monospace, monospace; }
tr.group th { text-align: left; background: #f6f6f6; }
tbody.anchor th[scope="row"] { font-style: italic; }
tr.failed td { text-align: left; font-style: italic; }
@media print { :root { font-size: 12px; } }
`;

/** The page: the time chart, the memory chart, the table, least privilege, the notes. */
export function renderBenchPage(report: BenchReport, lang: Lang): string {
  const words: Words = WORDS[lang];
  const leastPrivilege = leastPrivilegeLine(report, lang);
  const notes = [
    ...report.notes,
    ...(report.missing.length
      ? [words.missing(report.missing.map((m) => m.tool).join(', '), report.missing.map((m) => m.package).join(' '))]
      : []),
  ];
  const body = html`<main>
<h1>${words.title}</h1>
<section>
<h2>${words.time}</h2>
${
  report.runs < FEW_RUNS
    ? html`<p class="few-runs"><strong>${words.fewRuns(report.runs)}</strong></p>
`
    : ''
}${timeFigure(report, words, lang)}
</section>
${memoryFigure(report, words)}
<section>
<h2>${words.numbers}</h2>
${table(report, words)}
${leastPrivilege ? html`<p>${leastPrivilege}</p>` : ''}
</section>
${notes.length ? html`<section>\n<h2>${words.notes}</h2>\n<ul>${notes.map((note) => html`<li>${note}</li>`)}</ul>\n</section>` : ''}
</main>`;
  return page({ lang, title: words.title, style: STYLE, body });
}
