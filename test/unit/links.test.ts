// Every relative link in the project's Markdown resolves to a file or folder of the
// repository (an anchor after `#` is not checked): moving a file breaks no page.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
/** The repository's files ending in `suffix` (not node_modules', nor dot folders'). Not git: the unit tier also runs as nobody, in a checkout git would call "dubious". */
function filesEndingIn(suffix: string, dir = ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesEndingIn(suffix, path);
    return entry.name.endsWith(suffix) ? [relative(ROOT, path)] : [];
  });
}

const pages = filesEndingIn('.md');

/** The relative targets of a page's links: `[text](target)`, outside code blocks. */
function relativeLinks(text: string): string[] {
  const prose = text.replace(/^```[\s\S]*?^```/gm, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)]
    .map(([, target]) => target!.split('#')[0]!)
    .filter((target) => target !== '' && !/^[a-z]+:/.test(target));
}

it('every relative link in a Markdown page resolves', () => {
  const broken: string[] = [];
  let count = 0;
  for (const page of pages) {
    for (const target of relativeLinks(readFileSync(join(ROOT, page), 'utf8'))) {
      count++;
      if (!existsSync(join(ROOT, dirname(page), decodeURIComponent(target)))) broken.push(`${page}: ${target}`);
    }
  }
  expect(broken).toEqual([]);
  expect(count).toBeGreaterThan(300); // the pages link to the code: a parser that finds none is broken
});

it('shared/README.md names every file of shared/', () => {
  const map = readFileSync(join(ROOT, 'shared/README.md'), 'utf8');
  const files = filesEndingIn('.ts', join(ROOT, 'shared')).map((file) => file);
  const unnamed = files.filter((file) => !map.includes(`](${file.slice('shared/'.length)})`));
  expect(unnamed).toEqual([]);
});
