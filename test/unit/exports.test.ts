// No dead code in shared/: every name a module exports is imported somewhere else
// (by a step, another module, a script or a test). A learner should never read a
// helper that nothing uses.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, it } from 'vitest';

const REPO = new URL('../../', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'fixtures' ? [] : files(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

it('every export of shared/ is imported by another file', () => {
  const sources = ['shared', 'steps', 'scripts', 'test']
    .flatMap(files)
    .map((file) => ({ file, text: readFileSync(join(REPO, file), 'utf8') }));
  const unused: string[] = [];
  for (const { file, text } of sources.filter(({ file }) => file.startsWith('shared/'))) {
    const names = [...text.matchAll(/^export (?:async )?(?:function|const|class|interface|type) (\w+)/gm)].map((m) => m[1]!);
    const module = file.split('/').pop()!;
    for (const name of names) {
      const importers = sources.filter((other) => {
        if (other.file === file) return false;
        const imports = [...other.text.matchAll(/import (?:type )?\{([^}]*)\} from '([^']+)'/g)];
        const star = new RegExp(`import \\* as (\\w+) from '[^']*/${module.replace('.', '\\.')}'`).exec(other.text);
        return (
          imports.some(([, list, from]) => from!.endsWith(`/${module}`) && new RegExp(`\\b${name}\\b`).test(list!)) ||
          (star && other.text.includes(`${star[1]}.${name}`))
        );
      });
      if (importers.length === 0) unused.push(`${relative('.', file)}: ${name}`);
    }
  }
  expect(unused).toEqual([]);
});
