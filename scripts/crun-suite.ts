// crun's own test suite against an OCI runtime, next to Debian's crun, as a table;
// then each test crun passes and the runtime does not, with the last line it printed.
//   sudo node scripts/crun-suite.ts [RUNTIME] [--file test_exec ...]
// RUNTIME: an absolute path (default: step 15's, steps/15-oci/runtime); --file: some of
// crun's tests/test_*.py only (quicker, while working on one thing).
// The same harness as test/oci/crun-suite.test.ts (test/harness/crun-suite.ts says how).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { countByFile, crunSuiteSource, formatTable, runCrunSuite, suiteFiles } from '../test/harness/crun-suite.ts';
import { fail, messageOf, parseCommandLine, usageError } from './lib/cli.ts';

const USAGE = 'usage: sudo node scripts/crun-suite.ts [RUNTIME] [--file test_exec ...]';
const CRUN = '/usr/bin/crun';

const { values, positionals } = parseCommandLine(USAGE, {
  options: { file: { type: 'string', multiple: true } },
  allowPositionals: true,
});
if (positionals.length > 1) usageError(USAGE);
const runtime = path.resolve(positionals[0] ?? path.join(import.meta.dirname, '../steps/15-oci/runtime'));
if (process.getuid?.() !== 0) fail('The suite makes namespaces, mounts and cgroups: run it as root (sudo)');
for (const binary of [CRUN, runtime])
  if (!existsSync(binary)) fail(`${binary} is missing${binary === CRUN ? ': apt-get install crun' : ''}`);
try {
  crunSuiteSource();
} catch (error) {
  fail(messageOf(error));
}
const files = values.file ?? suiteFiles();
const unknown = files.filter((file) => !suiteFiles().includes(file));
if (unknown.length) usageError(`no such file in the suite: ${unknown.join(', ')} (${suiteFiles().join(' ')})`);

// Both at once: crun's run is the yardstick, on the machine as it is now.
const [crun, theirs] = await Promise.all([CRUN, runtime].map((binary) => runCrunSuite(binary, { files })));
console.log(
  formatTable([
    { label: 'crun (Debian)', run: crun! },
    { label: path.basename(path.dirname(runtime)) === '15-oci' ? 'ours (step 15)' : runtime, run: theirs! },
  ]),
);
const results = new Map(theirs!.tests.map((test) => [`${test.file}:${test.name}`, test]));
const behind = crun!.tests.filter((test) => test.result === 'ok' && results.get(`${test.file}:${test.name}`)?.result !== 'ok');
if (behind.length) console.log(`\ncrun passes these, ${runtime} does not:`);
for (const { file, name } of behind) {
  const { result, detail } = results.get(`${file}:${name}`)!;
  // The runtime's own last words, not Python's "Command [...] returned non-zero exit status 1"
  const said = detail.split('\n').filter((line) => line && !line.startsWith("Command '[") && line !== "b''");
  console.log(`  ${file}:${name}  ${result}  ${said.at(-1) ?? ''}`.slice(0, 200));
}
const total = [...countByFile(crun!).values()].reduce((sum, count) => sum + count.pass, 0);
if (!values.file && total < 90)
  console.log(`\ncrun itself passed only ${total} (at least 90 expected): this machine cannot run the suite as it is`);
process.exitCode = behind.length ? 1 : 0;
