// The options of `run`, as docker run names them (shared/runtime/cli.ts parses them):
//   steps 09+: --memory 64m  --pids 32  --cpus 0.5   (0 = no limit)
//   steps 10+: --image busybox  --keep
//   steps 13+: -p 8080:80 (--publish)
import { availableParallelism } from 'node:os';
import type { Limits } from '../cgroup/lifecycle.ts';
import { parseReference } from '../image/reference.ts';
import { BUSYBOX, isImageName } from '../image/store.ts';
import { type PortMapping, parsePublish } from '../network/ports.ts';
import type { Flag } from './cli.ts';
import { parseSize } from './sizes.ts';

const MiB = 1024 * 1024;

// The least a container can start with: its PID 1 is Node, which alone takes ~8 tasks
// (its threads) and ~16 MiB. Below that it would crash or hang; 0 still means no limit.
const MIN_MEMORY = 32 * MiB;
const MIN_PIDS = 16;
const atLeast = (floor: number, value: number | undefined) => (value === 0 || (value !== undefined && value >= floor) ? value : undefined);

/** Defaults: enough for a shell and its tools. */
export const LIMIT_FLAGS = {
  memory: {
    example: '64m',
    default: 256 * MiB,
    hint: `at least ${MIN_MEMORY / MiB}m (Node, the container's PID 1, needs about 16m alone), or 0 for no limit`,
    parse: (text) => atLeast(MIN_MEMORY, parseSize(text)),
  },
  pids: {
    example: '32',
    default: 128,
    hint: `at least ${MIN_PIDS} (Node, the container's PID 1, takes 8 alone), or 0 for no limit`,
    parse: (text) => atLeast(MIN_PIDS, /^\d+$/.test(text) && Number(text) <= 4_194_304 ? Number(text) : undefined),
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
  // a name (busybox, an imported image) or a reference (alpine, 127.0.0.1:5000/app:v1)
  image: { example: BUSYBOX, default: BUSYBOX, parse: (text) => (isImageName(text) || parseReference(text) ? text : undefined) },
  keep: { default: false, parse: (text) => (text === '' || text === 'true' ? true : text === 'false' ? false : undefined) },
} satisfies { [Name in keyof ImageOptions]: Flag<ImageOptions[Name]> };

export interface NetworkOptions {
  publish: PortMapping[]; // -p 8080:80, repeatable
}

/** Step 13+: `-p [HOSTIP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp]`, as docker run's --publish. */
export const NETWORK_FLAGS = {
  publish: {
    short: 'p',
    repeats: true,
    example: '8080:80',
    hint: '[HOSTIP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp], ports 1-65535 (like -p 8080:80)',
    default: [],
    parse: (text) => {
      const mapping = parsePublish(text);
      return mapping && [mapping];
    },
  },
} satisfies { [Name in keyof NetworkOptions]: Flag<NetworkOptions[Name]> };
