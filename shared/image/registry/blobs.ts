// Blobs (a config, a layer): GET /v2/<name>/blobs/<digest>. Each is checked as it
// streams: its bytes are hashed on their way through, and counted; once they are all in,
// the hash must be the digest the manifest named, and the count its size. Nothing is
// held in memory but the chunk in flight. A connection that drops mid-blob is picked up
// where it stopped (a Range request), up to twice; a blob that sends nothing for the
// timeout fails.
import { createHash } from 'node:crypto';
import { networkCode, type Registry, RegistryError } from './http.ts';
import type { Descriptor } from './manifest.ts';

const RESUMES = 2;

// Memory: the chunks already read are Buffers, memory outside V8's heap, and V8 frees
// them only at its next garbage collection, which it starts once such memory has grown
// by its allowance (~64 MiB): a download that only counted its bytes would peak at
// ~150 MiB RSS. So every COLLECT_EVERY bytes, a minor collection (the young generation,
// where those chunks still are; well under a millisecond) frees them: the pull of a
// 200 MiB layer peaks at ~93 MiB, Node and its modules ~60 of it (npm run bench:pull).
// `gc` exists only with node --expose-gc, which the `image` npm script passes (with
// --max-semi-space-size=1: a young generation of 1 MiB, a few MiB less heap); without
// it, V8's own pace.
const COLLECT_EVERY = 1024 * 1024;
const freeChunksRead = () => globalThis.gc?.({ type: 'minor' });

/** The blob's bytes, in chunks; throws at the end if they are not what `blob` says. */
export async function* blobChunks(
  registry: Registry,
  repository: string,
  blob: Descriptor,
  timeoutMs: number,
  onProgress: (received: number) => void = () => {},
): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  let received = 0;
  for (let resumes = 0; ; resumes++) {
    try {
      for await (const chunk of download(registry, repository, blob, received, timeoutMs)) {
        received += chunk.length;
        if (received > blob.size) throw new RegistryError(`blob ${blob.digest}: more than its ${blob.size} bytes`);
        hash.update(chunk);
        onProgress(received);
        yield chunk;
        if (received % COLLECT_EVERY < chunk.length) freeChunksRead(); // crossed a multiple of it
      }
      break;
    } catch (error) {
      const code = networkCode(error);
      if (!code || resumes === RESUMES)
        throw error instanceof RegistryError || !code
          ? error
          : new RegistryError(`blob ${blob.digest}: ${code} after ${received} of ${blob.size} bytes`);
    }
  }
  if (received !== blob.size) throw new RegistryError(`blob ${blob.digest}: ${received} bytes, not ${blob.size}`);
  const digest = `sha256:${hash.digest('hex')}`;
  if (digest !== blob.digest) throw new RegistryError(`blob ${blob.digest} does not match its digest: its bytes hash to ${digest}`);
}

/** One GET of the blob, from byte `from` on; its body's chunks. */
async function* download(registry: Registry, repository: string, blob: Descriptor, from: number, timeoutMs: number) {
  const idle = new AbortController();
  const range: Record<string, string> = from > 0 ? { range: `bytes=${from}-` } : {};
  const response = await registry.get(`${repository}/blobs/${blob.digest}`, range, idle.signal);
  if (response.status === 404) throw new RegistryError(`blob ${blob.digest}: not in the registry (404)`);
  if (from > 0 && response.status !== 206)
    throw new RegistryError(`blob ${blob.digest}: the connection dropped, and the registry cannot resume`);
  if (!response.ok || !response.body) throw new RegistryError(`blob ${blob.digest}: ${response.status} ${response.statusText}`);
  let timer = setTimeout(() => idle.abort(), timeoutMs);
  try {
    for await (const chunk of response.body) {
      clearTimeout(timer);
      timer = setTimeout(() => idle.abort(), timeoutMs); // silent for timeoutMs: give up
      yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength); // the same bytes, no copy
    }
  } catch (error) {
    if (idle.signal.aborted) throw new RegistryError(`blob ${blob.digest}: nothing for ${timeoutMs / 1000} s`);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** A small blob (the config), whole, checked. */
export async function readBlob(registry: Registry, repository: string, blob: Descriptor, timeoutMs: number): Promise<Buffer> {
  if (blob.size > 16 * 1024 * 1024) throw new RegistryError(`config ${blob.digest}: ${blob.size} bytes, too big`);
  const chunks: Buffer[] = [];
  for await (const chunk of blobChunks(registry, repository, blob, timeoutMs)) chunks.push(chunk);
  return Buffer.concat(chunks);
}
