// The course's steps, found where they live: every folder steps/NN-name/ with a main.ts.
// The tests, the matrix, the bench and `npm run diff` all take the list from here, so
// a new step is a new folder (and its `step:N` script in package.json), nothing more.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const STEPS_DIR = import.meta.dirname;

/** "03-hostname" -> 3 */
export const stepNumber = (folder: string) => Number.parseInt(folder, 10);

/** The step folders, in order: ["01-run", "02-uts", ...]. */
export function listSteps(dir = STEPS_DIR): string[] {
  return readdirSync(dir)
    .filter((name) => /^\d\d-[a-z0-9-]+$/.test(name) && existsSync(join(dir, name, 'main.ts')))
    .sort();
}

/**
 * The steps a learner runs as `docker run` (`npm run step:N -- <cmd>`): every step but
 * those an engine drives, whose folder holds a `runtime` to point it at (15-oci: podman
 * and containerd call it as runc, with a bundle). The matrix and the tests of `run` take these.
 */
export function dockerLikeSteps(dir = STEPS_DIR): string[] {
  return listSteps(dir).filter((step) => !existsSync(join(dir, step, 'runtime')));
}
