// The transcripts in the course pages, read so that a test can replay them.
//
// A transcript is a fenced ```console block, written as a learner sees it in the
// course VM (whose hostname is `workshop`):
//   - a line that starts with `$ ` is a command, typed in the project folder;
//   - the lines after it are what the terminal shows: stdout and stderr together, in
//     the order they were written;
//   - `<pid>` stands for any number (PIDs differ on every run), `<any>` for any text
//     within a line, and a line `...` for any number of lines (none included);
//   - spaces are compared loosely (a run of spaces matches any run), and paths are
//     as in the VM: the project at /vagrant, the root filesystem at /containerfs
//     (the replay maps them to the sandbox's, in commands and in the output).
// Other blocks (```sh, ```text) are not replayed: use them for what a test cannot run
// (vagrant up, an interactive shell).
import { readFileSync } from 'node:fs';

const TRANSCRIPT_HOSTNAME = 'workshop';

interface Entry {
  command: string;
  expected: string[];
}

export interface Transcript {
  line: number; // where the block starts in its file, for error messages
  text: string; // the block as written
  entries: Entry[];
}

/** Every ```console block of a markdown file. */
export function readTranscripts(file: string): Transcript[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const transcripts: Transcript[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```console') continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i]!.trim() !== '```'; i++) body.push(lines[i]!);
    transcripts.push({ line: start + 1, text: body.join('\n'), entries: parse(body) });
  }
  return transcripts;
}

function parse(body: string[]): Entry[] {
  const entries: Entry[] = [];
  for (const line of body) {
    if (line.startsWith('$ ')) entries.push({ command: line.slice(2), expected: [] });
    else if (entries.length > 0) entries.at(-1)!.expected.push(line);
    else throw new Error(`a transcript must start with a command ("$ ..."), not: ${line}`);
  }
  return entries;
}

// The course VM's paths, where a command names them: the sandbox has its own.
const VM_PATHS = /(?<![\w/.-])\/(?:vagrant|containerfs)(?![\w.-])/g;

/**
 * A bash script that replays the transcript's commands one after the other in the
 * same shell, and prints a marker line before each command's output. The sandbox runs
 * as root, so a leading `sudo ` is dropped; `/vagrant` and `/containerfs` in a command
 * become the sandbox's project and root filesystem (write them outside single quotes).
 */
export function replayScript(transcript: Transcript, marker: string): string {
  const steps = transcript.entries.map(({ command }, index) => {
    // The sandbox's paths, as bash variables: "$" "{REPO}" is not a template of ours.
    const asRoot = command
      .replace(/^sudo /, '')
      .replace(VM_PATHS, (path) => (path === '/vagrant' ? '$' + '{REPO}' : '$' + '{CONTAINERFS}'));
    return `printf '%s\\n' '${marker} ${index}'\n{ ${asRoot}\n} 2>&1`;
  });
  return [
    `hostname ${TRANSCRIPT_HOSTNAME}`,
    `printf '%s %s\\n' '${marker} containerfs' "$CONTAINERFS"`,
    ...steps,
    `printf '%s\\n' '${marker} end'`,
  ].join('\n');
}

/**
 * Split the replay's stdout into each command's output lines, with the sandbox's
 * paths shown as the course VM shows them: the project at /vagrant, the root
 * filesystem at /containerfs.
 */
export function splitOutput(stdout: string, marker: string, count: number, repo: string): string[][] | undefined {
  const containerfs = stdout.match(new RegExp(`^${marker} containerfs (.+)$`, 'm'))?.[1];
  const parts = stdout.split(new RegExp(`^${marker} (?:\\d+|end)\\n`, 'm'));
  if (containerfs === undefined || parts.length !== count + 2) return undefined; // the replay stopped early
  const asInTheVm = (line: string) => line.replaceAll(containerfs, '/containerfs').replaceAll(repo, '/vagrant');
  return parts.slice(1, -1).map((part) => (part === '' ? [] : part.replace(/\n$/, '').split('\n').map(asInTheVm)));
}

/** Does `actual` fit `expected`, placeholders and `...` included? */
export function fits(expected: string[], actual: string[]): boolean {
  const patterns = expected.map((line) => (line.trim() === '...' ? undefined : linePattern(line)));
  const match = (e: number, a: number): boolean => {
    if (e === patterns.length) return a === actual.length;
    const pattern = patterns[e];
    if (pattern === undefined) {
      for (let k = a; k <= actual.length; k++) if (match(e + 1, k)) return true;
      return false;
    }
    return a < actual.length && pattern.test(actual[a]!) && match(e + 1, a + 1);
  };
  return match(0, 0);
}

/** Spaces are compared loosely, as `diff -b` does: columns shift with a PID's width. */
function linePattern(line: string): RegExp {
  const words = line
    .trim()
    .split(/\s+/)
    .map((word) =>
      word
        .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        .replaceAll('<pid>', '\\d+')
        .replaceAll('<any>', '.*'),
    );
  return new RegExp(`^\\s*${words.join('\\s+')}\\s*$`);
}
