// npm run matrix: the whole course at a glance. Runs every isolation probe (the same
// ones the tests run, test/course/probes.ts) against every step, each in its own
// throwaway sandbox, and prints one table: a row per probe, a column per step; the
// invariants (what every step must do) last. It lives beside the table it is a view of.
//   yes / no   the probe's answer, as the course expects it (test/course/expectations.ts)
//   *          the answer changed at this step: that is the step's lesson
//   ✗          the answer is not what the course expects
//   ERR        the probe could not answer (the reason is printed under the table)
// A part of the table:  npm run matrix -- --steps 9,10 --probes own-cgroup,pids-limited
// The same table as one HTML page too, from the same run: --html <file> (--lang ja: in
// Japanese); its links are relative to where it is written (scripts/report/matrix-page.ts).
// --png <file>: that page as a headless browser shows it (the README's picture).
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, machine, release, type } from 'node:os';
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, styleText } from 'node:util';
import {
  definitionLines,
  errorLines,
  footLine,
  type MatrixReport,
  type MatrixRow,
  type Measured,
  renderMatrixPage,
  rowCells,
  tally,
  verdict,
} from '../../scripts/report/matrix-page.ts';
import type { Lang } from '../../scripts/report/page.ts';
import { stepNumber } from '../../steps/list.ts';
import { buildBaseRootfs, removeBaseRootfs } from '../harness/base-rootfs.ts';
import { differences, snapshotMachine } from '../harness/machine.ts';
import { inSandbox, RUN_MARKER, TIME_SCALE } from '../harness/sandbox.ts';
import { CLAIMS_JA } from './claims.ja.ts';
import { EXPECTED, INVARIANTS, STEPS, type Step } from './expectations.ts';
import { PROBES, type ProbeId } from './probes.ts';

const CELL_TIMEOUT_MS = 60_000 * TIME_SCALE;
// Under QEMU's emulation (npm run test:vm: TIME_SCALE > 1), V8 itself now and then dies
// compiling (a "Fatal error … Check failed: it->second.Size() > offset", SIGTRAP, or
// SIGSEGV), in the one probe whose Node strips the types of every module (no compile
// cache): seen in main before step 15 too, 1 matrix run in 4, and never on real CPUs.
// Such a cell is asked once more (ask()), and says so; any other answer stands as it came.
// Defined up here: the module's top-level await below asks every cell before the rest runs.
const NODE_CRASH = /^stdout: status=(133|134|139)$/m; // the probe's error (probes.ts): 128 + SIGTRAP, SIGABRT, SIGSEGV
const USAGE = 'usage: npm run matrix [-- --steps 9,10 --probes own-cgroup,pids-limited --html matrix.html --lang ja --png matrix.png]';
const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));

// The lessons first, in the table's order; the invariants last, under their own heading.
const ALL_PROBES = [...(Object.keys(PROBES) as ProbeId[]).filter((id) => !INVARIANTS.includes(id)), ...INVARIANTS];
const { steps, probeIds, asked, htmlFile, pngFile, lang } = parseOptions(process.argv.slice(2));
// Where probes.ts defines each probe, the page's links: read before the run, so that a
// probe it cannot find fails now, not after it.
const probeLines = htmlFile === undefined ? undefined : linesOf(probeIds);

if (process.getuid?.() !== 0) {
  console.error('npm run matrix runs every step in sandboxes (namespaces, mounts): it needs root. Run: sudo npm run matrix');
  process.exit(1);
}

const runId = `matrix-${process.pid}-${Date.now()}`;
const before = snapshotMachine(`${RUN_MARKER}=${runId}`);
const started = performance.now();

const baseRootfs = buildBaseRootfs();
if (!baseRootfs) process.exit(1);

let cells: Map<string, Measured>;
try {
  cells = await askAll(baseRootfs);
} finally {
  removeBaseRootfs(baseRootfs);
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
// The table's rows: what the text prints, and the page shows.
const rows: MatrixRow[] = probeIds.map((id) => ({
  id,
  claim: { en: PROBES[id].claim, ja: CLAIMS_JA[id] },
  line: probeLines?.get(id) ?? 0,
  cells: rowCells(
    steps,
    STEPS,
    (step) => cells.get(key(step, id))!,
    (step) => EXPECTED[step]![id],
  ),
}));
printTable(rows);
const { failures } = tally(rows);
console.log(footLine(rows, seconds, 'en'));
const written = htmlFile === undefined || writePage(htmlFile, rows);
// --png: the page as a person sees it, in a headless browser (the README's picture), small
const pictured = !written || htmlFile === undefined || pngFile === undefined || (await takePicture(htmlFile, pngFile));

const changed = differences(before, snapshotMachine(`${RUN_MARKER}=${runId}`));
if (changed.length > 0) console.error(`the matrix changed this machine:\n  ${changed.join('\n  ')}`);
process.exit(failures > 0 || changed.length > 0 || !written || !pictured ? 1 : 0);

/**
 * The columns and rows asked for (--steps 9,10 and --probes <ids>: all of them if not
 * given); the page to write too, if any (--html <file>), and its language (--lang en|ja).
 */
function parseOptions(args: string[]): {
  steps: Step[];
  probeIds: ProbeId[];
  asked: string;
  htmlFile?: string;
  pngFile?: string;
  lang: Lang;
} {
  let values: { steps?: string; probes?: string; html?: string; lang?: string; png?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        steps: { type: 'string' },
        probes: { type: 'string' },
        html: { type: 'string' },
        lang: { type: 'string' },
        png: { type: 'string' },
      },
    }));
  } catch (error) {
    usage(error instanceof Error ? error.message : String(error));
  }
  const numbers = values.steps?.split(',') ?? STEPS.map(stepNumber).map(String);
  const ids = values.probes?.split(',') ?? ALL_PROBES;
  const unknownStep = numbers.find((n) => !/^\d+$/.test(n) || !STEPS.some((step) => stepNumber(step) === Number(n)));
  if (unknownStep !== undefined) usage(`no step "${unknownStep}": the steps are ${STEPS.map(stepNumber).join(', ')}`);
  const unknownProbe = ids.find((id) => !ALL_PROBES.includes(id as ProbeId));
  if (unknownProbe !== undefined) usage(`no probe "${unknownProbe}" (test/course/probes.ts): the probes are ${ALL_PROBES.join(', ')}`);
  const lang = values.lang ?? 'en';
  if (lang !== 'en' && lang !== 'ja') usage(`no language "${lang}" for the page: en or ja`);
  if (values.lang !== undefined && values.html === undefined) usage("--lang is the page's language: it needs --html <file>");
  if (values.png !== undefined && values.html === undefined) usage('--png is a picture of the page: it needs --html <file>');
  if (values.png === '') usage('--png needs a file: --png matrix.png');
  if (values.html !== undefined) {
    const folder = dirname(resolve(values.html));
    if (values.html === '') usage('--html needs a file: --html matrix.html');
    if (existsSync(values.html) && statSync(values.html).isDirectory()) usage(`--html ${values.html}: a folder; the page is a file`);
    if (!existsSync(folder) || !statSync(folder).isDirectory()) usage(`--html ${values.html}: no folder ${folder}`);
  }
  return {
    steps: STEPS.filter((step) => numbers.some((n) => Number(n) === stepNumber(step))),
    probeIds: ALL_PROBES.filter((id) => ids.includes(id)),
    asked: Object.entries(values)
      .filter(([name]) => name === 'steps' || name === 'probes')
      .map(([name, list]) => `--${name} ${list}`)
      .join(' '),
    htmlFile: values.html,
    pngFile: values.png,
    lang,
  };
}

function usage(why: string): never {
  console.error(`npm run matrix: ${why}. ${USAGE}`);
  process.exit(2);
}

/** Every (step, probe) pair, a few sandboxes at a time. */
async function askAll(baseRootfs: string): Promise<Map<string, Measured>> {
  const jobs = steps.flatMap((step) => probeIds.map((id) => ({ step, id })));
  const cells = new Map<string, Measured>();
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const { step, id } = jobs[next++]!;
      cells.set(key(step, id), await ask(step, id, baseRootfs));
      if (process.stderr.isTTY) process.stderr.write(`\r${cells.size}/${jobs.length} probes`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(2, availableParallelism()) }, worker));
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  return cells;
}

async function ask(step: Step, id: ProbeId, baseRootfs: string): Promise<Measured> {
  const measured = await askOnce(step, id, baseRootfs);
  if (TIME_SCALE > 1 && 'error' in measured && NODE_CRASH.test(measured.error)) {
    console.error(`${step} / ${id}: Node died under emulation, asked again:\n${measured.error}`);
    return askOnce(step, id, baseRootfs);
  }
  return measured;
}

async function askOnce(step: Step, id: ProbeId, baseRootfs: string): Promise<Measured> {
  let timer: NodeJS.Timeout | undefined;
  // The sandbox kills a probe after 30 s; this is the net under that net.
  const giveUp = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer after ${CELL_TIMEOUT_MS / 1000} s`)), CELL_TIMEOUT_MS);
  });
  try {
    const outcome = await Promise.race([inSandbox(PROBES[id].script, { step, baseRootfs, runId }), giveUp]);
    return { answer: PROBES[id].observe(outcome) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** Print the table, and the reason for every ERR. */
function printTable(rows: MatrixRow[]): void {
  const claimWidth = Math.max(...rows.map((row) => row.claim.en.length));
  const columns = steps.map((step) => step.slice(0, 2));
  console.log(`steps: ${steps.join(' · ')}${asked ? `   (only those asked for: ${asked})` : ''}`);
  console.log();
  console.log(`${'probe'.padEnd(claimWidth)}  ${columns.map((c) => c.padEnd(5)).join(' ')}`);

  const firstInvariant = rows.find((row) => INVARIANTS.includes(row.id as ProbeId));
  for (const row of rows) {
    if (row === firstInvariant) console.log(`\n${'invariants: every step, as docker run'.padEnd(claimWidth)}`);
    const marks = row.cells.map((cell) => {
      if ('error' in cell) return styleText(['red', 'bold'], 'ERR  ');
      const word = cell.answer ? 'yes' : 'no';
      switch (verdict(cell)) {
        case 'unexpected':
          return styleText(['red', 'bold'], `${word}✗`.padEnd(5));
        case 'lesson':
          return styleText('bold', `${word}*`.padEnd(5));
        default:
          return `${word}`.padEnd(5);
      }
    });
    console.log(`${row.claim.en.padEnd(claimWidth)}  ${marks.join(' ')}`);
  }
  console.log();
  console.log('yes/no: the answer, as the course expects   *: changed at this step   ✗: not as expected   ERR: no answer');
  for (const error of errorLines(steps, rows)) console.log(styleText('red', `ERR ${error}`));
  // And what each such probe saw, on stderr: a CI log is then enough to tell why.
  for (const [column, step] of steps.entries()) {
    for (const row of rows) {
      const cell = row.cells[column]!;
      if ('error' in cell && cell.error.includes('\n')) console.error(`--- ${step} / ${row.id}:\n${cell.error}`);
    }
  }
}

/** The line of test/course/probes.ts that defines each probe (throws for one it does not find). */
function linesOf(ids: ProbeId[]): Map<string, number> {
  const lines = definitionLines(readFileSync(new URL('./probes.ts', import.meta.url), 'utf8'));
  const lost = ids.find((id) => !lines.has(id));
  if (lost !== undefined) throw new Error(`no line of test/course/probes.ts starts with '${lost}': for the page to link to`);
  return lines;
}

/** The page, from the rows the text printed: the invariants apart, the machine, the date, its links from where it is. */
function writePage(file: string, rows: MatrixRow[]): boolean {
  const fromPage = relative(dirname(resolve(file)), REPOSITORY);
  const report: MatrixReport = {
    steps,
    lessons: rows.filter((row) => !INVARIANTS.includes(row.id as ProbeId)),
    invariants: rows.filter((row) => INVARIANTS.includes(row.id as ProbeId)),
    asked,
    seconds,
    machine: { kernel: `${type()} ${release()} ${machine()}`, node: process.version },
    date: new Date().toISOString(),
    root: fromPage === '' ? '' : `${fromPage.split(sep).map(encodeURIComponent).join('/')}/`,
  };
  const text = renderMatrixPage(report, lang);
  try {
    writeFileSync(file, text);
  } catch (error) {
    console.error(`npm run matrix: the page not written: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
  console.error(`the page: ${file} (${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB)`);
  return true;
}

/** The page in a headless browser, as a PNG: 1400 CSS pixels wide, at 60 % (a small file). */
async function takePicture(htmlFile: string, pngFile: string): Promise<boolean> {
  try {
    const { screenshotPage } = await import('../../scripts/report/browser.ts'); // only when asked: it starts a browser
    await screenshotPage(htmlFile, pngFile, { width: 1400, scale: 0.6 });
  } catch (error) {
    console.error(`npm run matrix: no picture: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
  console.error(`the picture: ${pngFile} (${(statSync(pngFile).size / 1024).toFixed(0)} KiB)`);
  return true;
}

function key(step: Step, id: ProbeId): string {
  return `${step} ${id}`;
}
