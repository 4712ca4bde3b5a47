// The container side of the runtime's handshake (steps/15-oci/main.ts, handshake()): the
// runtime's "go" line, which carries the container's settings as JSON, read whole from the
// sync socket before anything else is said.
import { readSync } from 'node:fs';
import type { Config } from './config.ts';
import type { Saved } from './state.ts';

// The runtime's descriptors, after the engine's (0-2, --preserve-fds): the sync socket, the
// exec fifo, the console socket and the seccomp agent's socket, in that order ('ignore' when none).
export const RUNTIME_FDS = 4;

/** What "go" carries to the container's first process (a JSON line). */
export interface Settings {
  saved: Saved; // the container's paths and cgroups
  config: Config;
  filters: string[]; // its seccomp program (base64), built by the runtime
  keyring: string; // its session keyring's name; "" to keep the caller's
  listener?: string; // with a listenerPath: what the seccomp agent gets with the listener
}

/** The runtime's "go", and the settings on its line (JSON); nothing else comes before we answer. */
export function awaitGo<T>(sync: number): T {
  const chunks: Buffer[] = [];
  for (let chunk = Buffer.alloc(65536), n = readSync(sync, chunk); ; chunk = Buffer.alloc(65536), n = readSync(sync, chunk)) {
    if (n === 0) process.exit(1); // the runtime went away: nothing to do
    chunks.push(chunk.subarray(0, n));
    if (chunk[n - 1] === 0x0a) break;
  }
  const line = Buffer.concat(chunks).toString();
  return JSON.parse(line.slice('go '.length));
}
