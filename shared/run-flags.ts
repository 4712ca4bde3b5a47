// The options of `run`, as docker run names them (shared/cli.ts parses them):
//   steps 09+: --memory 64m  --pids 32  --cpus 0.5   (0 = no limit)
//   steps 10+: --image busybox  --keep
import { availableParallelism } from 'node:os';
import type { Limits } from './cgroup/lifecycle.ts';
import type { Flag } from './cli.ts';
import { BUSYBOX, isImageName } from './images.ts';
import { parseSize } from './sizes.ts';

const MiB = 1024 * 1024;

/** Defaults: enough for a shell and its tools. */
export const LIMIT_FLAGS = {
  memory: { example: '64m', default: 256 * MiB, parse: parseSize },
  pids: {
    example: '32',
    default: 128,
    parse: (text) => (/^\d+$/.test(text) && Number(text) <= 4_194_304 ? Number(text) : undefined),
  },
  cpus: {
    example: '0.5',
    default: 1,
    // 0 = no limit; otherwise at least one hundredth of a CPU, at most every CPU there is.
    parse: (text) => {
      const cpus = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
      return cpus === 0 || (cpus >= 0.01 && cpus <= availableParallelism()) ? cpus : undefined;
    },
  },
} satisfies Record<keyof Limits, Flag<number>>;

export interface ImageOptions {
  image: string;
  keep: boolean; // keep the writable layer after exit
}

export const IMAGE_FLAGS = {
  image: { example: BUSYBOX, default: BUSYBOX, parse: (text) => (isImageName(text) ? text : undefined) },
  keep: { default: false, parse: (text) => (text === '' || text === 'true' ? true : text === 'false' ? false : undefined) },
} satisfies { [Name in keyof ImageOptions]: Flag<ImageOptions[Name]> };
