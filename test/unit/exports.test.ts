// No dead code: a learner should never read a helper that nothing uses. knip (knip.json)
// follows every import from the entries (each step, each script, each test and fixture)
// as TypeScript resolves them, and reports a file nothing reaches, an export no other
// file imports, a dependency nothing uses: `npm run knip` says which and where.
//
// And zx, the scripts' shell, stays out of every container's start-up: no file of steps/
// or shared/ imports it, nor any file a step's main.ts loads.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { expect, it } from 'vitest';

const REPO = new URL('../../', import.meta.url).pathname;

it('knip finds no unused file, export or dependency', { timeout: 60_000 }, () => {
  const knip = spawnSync(process.execPath, [join(REPO, 'node_modules/knip/bin/knip.js'), '--no-progress'], {
    cwd: REPO,
    encoding: 'utf8',
  });
  expect(knip.error).toBeUndefined();
  expect(knip.status, `npm run knip:\n${knip.stdout}${knip.stderr}`).toBe(0);
});

/** The .ts files of a folder of the project, and of its folders. */
function files(dir: string): string[] {
  return readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return files(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

// import ... from 'x', import 'x', import('x'), export ... from 'x', require('x')
const SPECIFIER = /\b(?:from|import|require)\s*\(?\s*['"]([^'"]+)['"]/g;

it('no file of steps/ or shared/ imports zx, nor any file a step loads', () => {
  const mains = readdirSync(join(REPO, 'steps'))
    .map((step) => `steps/${step}/main.ts`)
    .filter((main) => existsSync(join(REPO, main)));
  expect(mains.length).toBeGreaterThan(0);
  const queue = [...new Set([...mains, ...files('steps'), ...files('shared')])];
  const offenders: string[] = [];
  for (const file of queue) {
    for (const [, specifier] of readFileSync(join(REPO, file), 'utf8').matchAll(SPECIFIER)) {
      if (specifier === 'zx' || specifier!.startsWith('zx/')) offenders.push(`${file} imports ${specifier}`);
      if (!specifier!.startsWith('.')) continue; // node:*, koffi
      const imported = relative(REPO, join(REPO, dirname(file), specifier!));
      if (!queue.includes(imported) && existsSync(join(REPO, imported))) queue.push(imported); // scripts/lib, say
    }
  }
  expect(offenders).toEqual([]);
});
