// A stream of bytes, decompressed by what its first bytes say it is: gzip (1f 8b), zstd
// (28 b5 2f fd, where Node's zlib has it: Node 23.8+), or plain. Image layers come gzipped
// (docker's, most OCI ones), plain or zstd-compressed; a tarball to import may also be
// xz or bzip2, which xz(1) and bzip2(1) undo.
import { spawn } from 'node:child_process';
import { Duplex, pipeline, Readable } from 'node:stream';
import * as zlib from 'node:zlib';

const CHUNK = 256 * 1024; // zlib's default, 16 KiB, means many more trips through the loop

const starts = (chunk: Buffer, ...bytes: number[]) => bytes.every((byte, i) => chunk[i] === byte);

/** The chunks of `source`, decompressed. */
export async function* decompressed(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const chunks = source[Symbol.asyncIterator]();
  const first = await chunks.next();
  if (first.done) return;
  async function* again(): AsyncGenerator<Buffer> {
    yield first.value;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
  }
  const undo = decompressor(first.value);
  if (!undo) return yield* again();
  // pipeline passes an error of either side on to the other: the loop below throws it
  yield* pipeline(Readable.from(again(), { objectMode: false }), undo, () => {}) as AsyncIterable<Buffer>;
}

function decompressor(head: Buffer): Duplex | undefined {
  if (starts(head, 0x1f, 0x8b)) return zlib.createGunzip({ chunkSize: CHUNK });
  if (starts(head, 0x28, 0xb5, 0x2f, 0xfd)) {
    if (!('createZstdDecompress' in zlib)) throw new Error('zstd-compressed, and this Node has no zstd (Node 23.8+ has)');
    return (zlib as unknown as { createZstdDecompress(options: object): Duplex }).createZstdDecompress({ chunkSize: CHUNK });
  }
  if (starts(head, 0xfd, 0x37, 0x7a, 0x58, 0x5a)) return viaTool('xz');
  if (starts(head, 0x42, 0x5a, 0x68)) return viaTool('bzip2');
  return undefined;
}

/** `xz -dc` (or bzip2) as a stream: compressed bytes in, plain ones out. */
function viaTool(tool: string): Duplex {
  const child = spawn(tool, ['-dc'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const duplex = Duplex.from({ writable: child.stdin, readable: child.stdout });
  child.on('error', (error) => duplex.destroy(error));
  child.on('close', (status) => status !== 0 && duplex.destroy(new Error(`${tool} -dc failed: not ${tool} data`)));
  return duplex;
}
