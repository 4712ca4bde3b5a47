// The container side of the runtime's handshake (steps/15-oci/main.ts, handshake()): the
// runtime's "go" line, which carries the container's settings as JSON, read whole from the
// sync socket before anything else is said.
import { readSync } from 'node:fs';

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
