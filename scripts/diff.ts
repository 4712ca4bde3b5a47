// npm run diff -- 4 5: the lesson of step 5, as the diff of step 4's program and
// step 5's (every file of the two step folders but their course pages).
// Coloured on a terminal, plain when piped:  npm run -s diff -- 4 5 > lesson.diff
// One number compares a step with the step before it: npm run diff -- 5
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { listSteps, stepNumber } from '../steps/list.ts';
import { fail, messageOf, parseCommandLine, usageError } from './lib/cli.ts';

const REPO = new URL('..', import.meta.url).pathname;
const USAGE = 'usage: npm run diff -- <step> [<step>]   e.g. npm run diff -- 4 5';

const stepFolders = listSteps();

function folderOf(arg: string): string {
  const number = /^\d+$/.test(arg) ? Number(arg) : Number.NaN;
  const folder = stepFolders.find((name) => stepNumber(name) === number || name === arg);
  if (!folder) usageError(`no step ${arg}: the steps are ${stepFolders.map(stepNumber).join(', ')}`);
  return folder;
}

const { values, positionals: args } = parseCommandLine(USAGE, {
  options: { help: { type: 'boolean', short: 'h' } },
  allowPositionals: true,
});
if (values.help || args.length < 1 || args.length > 2) usageError(USAGE);
// One step: the one before it is its pair (step 01 has none: folderOf says which there are).
if (args.length === 1 && !/^\d+$/.test(args[0]!)) usageError(USAGE);
const [from, to] = args.length === 2 ? [args[0]!, args[1]!] : [String(Number(args[0]) - 1), args[0]!];
// The step asked for first: `diff -- 99` is about step 99, not 98.
const b = folderOf(to);
const a = folderOf(from);

/** A step's program: every file in its folder except the course pages. */
const programFiles = (folder: string) => readdirSync(join(REPO, 'steps', folder)).filter((name) => !/^README(\.\w+)?\.md$/.test(name));

const files = [...new Set([...programFiles(a), ...programFiles(b)])].sort();
let status = 0;
for (const file of files) {
  const [left, right] = [`steps/${a}/${file}`, `steps/${b}/${file}`];
  const pair = [existsSync(join(REPO, left)) ? left : '/dev/null', existsSync(join(REPO, right)) ? right : '/dev/null'];
  // Colours only when stdout is a terminal. --no-pager: print, never page. We write what
  // git prints ourselves: a write that fails (a full disk) must not pass for a diff.
  const color = process.stdout.isTTY ? 'always' : 'never';
  const diff = spawnSync('git', ['--no-pager', 'diff', '--no-index', `--color=${color}`, '--', ...pair], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 2 ** 20,
  });
  if (diff.error) fail(`git is needed to show the diff: ${diff.error.message}`);
  try {
    writeSync(1, diff.stdout);
  } catch (error) {
    fail(`diff: cannot write the diff: ${messageOf(error)}`);
  }
  // git diff --no-index exits 1 when the files differ: that is the expected outcome here.
  if (diff.status !== 0 && diff.status !== 1) status = diff.status ?? 1;
}
process.exit(status);
