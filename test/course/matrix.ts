// npm run matrix: the whole course at a glance. Runs every isolation probe (the same
// ones the tests run, test/course/probes.ts) against every step, each in its own
// throwaway sandbox, and prints one table: a row per probe, a column per step; the
// invariants (what every step must do) last. It lives beside the table it is a view of.
//   yes / no   the probe's answer, as the course expects it (test/course/expectations.ts)
//   *          the answer changed at this step: that is the step's lesson
//   ✗          the answer is not what the course expects
//   ERR        the probe could not answer (the reason is printed under the table)
// A part of the table:  npm run matrix -- --steps 9,10 --probes own-cgroup,pids-limited
import { availableParallelism } from 'node:os';
import { parseArgs, styleText } from 'node:util';
import { stepNumber } from '../../steps/list.ts';
import { buildBaseRootfs, removeBaseRootfs } from '../harness/base-rootfs.ts';
import { differences, snapshotMachine } from '../harness/machine.ts';
import { inSandbox, RUN_MARKER, TIME_SCALE } from '../harness/sandbox.ts';
import { EXPECTED, INVARIANTS, STEPS, type Step } from './expectations.ts';
import { PROBES, type ProbeId } from './probes.ts';

type Cell = { answer: boolean } | { error: string };

const CELL_TIMEOUT_MS = 60_000 * TIME_SCALE;
const USAGE = 'usage: npm run matrix [-- --steps 9,10 --probes own-cgroup,pids-limited]';

// The lessons first, in the table's order; the invariants last, under their own heading.
const ALL_PROBES = [...(Object.keys(PROBES) as ProbeId[]).filter((id) => !INVARIANTS.includes(id)), ...INVARIANTS];
const { steps, probeIds, asked } = parseOptions(process.argv.slice(2));

if (process.getuid?.() !== 0) {
  console.error('npm run matrix runs every step in sandboxes (namespaces, mounts): it needs root. Run: sudo npm run matrix');
  process.exit(1);
}

const runId = `matrix-${process.pid}-${Date.now()}`;
const before = snapshotMachine(`${RUN_MARKER}=${runId}`);
const started = performance.now();

const baseRootfs = buildBaseRootfs();
if (!baseRootfs) process.exit(1);

let cells: Map<string, Cell>;
try {
  cells = await askAll(baseRootfs);
} finally {
  removeBaseRootfs(baseRootfs);
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
const failures = printTable(cells);
console.log(`${cells.size} cells: ${cells.size - failures} as expected, ${failures} not (${seconds} s)`);

const changed = differences(before, snapshotMachine(`${RUN_MARKER}=${runId}`));
if (changed.length > 0) console.error(`the matrix changed this machine:\n  ${changed.join('\n  ')}`);
process.exit(failures > 0 || changed.length > 0 ? 1 : 0);

/** The columns and rows asked for (--steps 9,10 and --probes <ids>: all of them if not given). */
function parseOptions(args: string[]): { steps: Step[]; probeIds: ProbeId[]; asked: string } {
  let values: { steps?: string; probes?: string };
  try {
    ({ values } = parseArgs({ args, options: { steps: { type: 'string' }, probes: { type: 'string' } } }));
  } catch (error) {
    usage(error instanceof Error ? error.message : String(error));
  }
  const numbers = values.steps?.split(',') ?? STEPS.map(stepNumber).map(String);
  const ids = values.probes?.split(',') ?? ALL_PROBES;
  const unknownStep = numbers.find((n) => !/^\d+$/.test(n) || !STEPS.some((step) => stepNumber(step) === Number(n)));
  if (unknownStep !== undefined) usage(`no step "${unknownStep}": the steps are ${STEPS.map(stepNumber).join(', ')}`);
  const unknownProbe = ids.find((id) => !ALL_PROBES.includes(id as ProbeId));
  if (unknownProbe !== undefined) usage(`no probe "${unknownProbe}" (test/course/probes.ts): the probes are ${ALL_PROBES.join(', ')}`);
  return {
    steps: STEPS.filter((step) => numbers.some((n) => Number(n) === stepNumber(step))),
    probeIds: ALL_PROBES.filter((id) => ids.includes(id)),
    asked: Object.entries(values)
      .map(([name, list]) => `--${name} ${list}`)
      .join(' '),
  };
}

function usage(why: string): never {
  console.error(`npm run matrix: ${why}. ${USAGE}`);
  process.exit(2);
}

/** Every (step, probe) pair, a few sandboxes at a time. */
async function askAll(baseRootfs: string): Promise<Map<string, Cell>> {
  const jobs = steps.flatMap((step) => probeIds.map((id) => ({ step, id })));
  const cells = new Map<string, Cell>();
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

async function ask(step: Step, id: ProbeId, baseRootfs: string): Promise<Cell> {
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

/** Print the table and the reasons for every ERR; returns how many cells are not as expected. */
function printTable(cells: Map<string, Cell>): number {
  const claimWidth = Math.max(...probeIds.map((id) => PROBES[id].claim.length));
  const columns = steps.map((step) => step.slice(0, 2));
  console.log(`steps: ${steps.join(' · ')}${asked ? `   (only those asked for: ${asked})` : ''}`);
  console.log();
  console.log(`${'probe'.padEnd(claimWidth)}  ${columns.map((c) => c.padEnd(5)).join(' ')}`);

  const firstInvariant = probeIds.find((shown) => INVARIANTS.includes(shown));
  let failures = 0;
  const errors: string[] = [];
  for (const id of probeIds) {
    if (id === firstInvariant) console.log(`\n${'invariants: every step, as docker run'.padEnd(claimWidth)}`);
    const marks = steps.map((step) => {
      const cell = cells.get(key(step, id))!;
      if ('error' in cell) {
        failures++;
        errors.push(`${step} / ${id}: ${cell.error.split('\n')[0]}`);
        return styleText(['red', 'bold'], 'ERR  ');
      }
      const word = cell.answer ? 'yes' : 'no';
      // The step before, if its column is shown (the cells are those of the shown steps).
      const stepBefore = STEPS[STEPS.indexOf(step) - 1];
      const previous = stepBefore === undefined ? undefined : cells.get(key(stepBefore, id));
      const changedHere = previous !== undefined && 'answer' in previous && previous.answer !== cell.answer;
      if (cell.answer !== EXPECTED[step]![id]) {
        failures++;
        return styleText(['red', 'bold'], `${word}✗`.padEnd(5));
      }
      return changedHere ? styleText('bold', `${word}*`.padEnd(5)) : `${word}`.padEnd(5);
    });
    console.log(`${PROBES[id].claim.padEnd(claimWidth)}  ${marks.join(' ')}`);
  }
  console.log();
  console.log('yes/no: the answer, as the course expects   *: changed at this step   ✗: not as expected   ERR: no answer');
  for (const error of errors) console.log(styleText('red', `ERR ${error}`));
  return failures;
}

function key(step: Step, id: ProbeId): string {
  return `${step} ${id}`;
}
