// A tar reader, streaming: the entries of an archive one by one, each body read from
// the stream as it comes (nothing is held but the 512-byte block being parsed). Tar is
// a row of 512-byte header blocks, each followed by its body, padded to 512 bytes:
//   name 0..100  mode 100  uid 108  gid 116  size 124  mtime 136  checksum 148
//   type 156  linkname 157..257  "ustar" 257  devmajor 329  devminor 337  prefix 345..500
// Numbers are octal text (or, for big ones, base-256 with the top bit set). Names
// longer than 100 bytes come in an extra entry before theirs: GNU's type L (name) and
// K (link name), or a PAX header (type x) of "length key=value\n" records, which can
// also give path, linkpath, size, uid and gid. Two zero blocks end the archive.

const BLOCK = 512;

type EntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo';
const TYPES: Record<string, EntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file', // "contiguous": a plain file everywhere today
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'directory',
  '6': 'fifo',
};

export interface TarEntry {
  name: string;
  type: EntryType;
  mode: number; // permission bits and setuid/setgid/sticky
  uid: number;
  gid: number;
  size: number;
  mtime: number; // seconds
  linkname: string;
  devmajor: number;
  devminor: number;
  body: AsyncGenerator<Buffer>; // the file's bytes, in chunks: read it before the next entry
}

/** Bytes from an async stream of chunks, taken in the amounts the parser asks for. */
class ChunkReader {
  private chunks: AsyncIterator<Buffer>;
  private rest: Buffer = Buffer.alloc(0);
  constructor(source: AsyncIterable<Buffer>) {
    this.chunks = source[Symbol.asyncIterator]();
  }

  /** Exactly `n` bytes; an empty buffer at the very end of the stream. */
  async take(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let have = 0;
    for await (const chunk of this.pieces(n)) {
      parts.push(chunk);
      have += chunk.length;
    }
    if (have !== 0 && have !== n) throw new Error('the archive ends in the middle of a block');
    return Buffer.concat(parts, have);
  }

  /** Up to `n` bytes, in the chunks they arrive in. */
  async *pieces(n: number): AsyncGenerator<Buffer> {
    while (n > 0) {
      if (this.rest.length === 0) {
        const next = await this.chunks.next();
        if (next.done) return;
        this.rest = next.value;
      }
      const piece = this.rest.subarray(0, n);
      this.rest = this.rest.subarray(piece.length);
      n -= piece.length;
      yield piece;
    }
  }

  /** Read what is left (a digest check needs every byte to pass). */
  async drain(): Promise<void> {
    this.rest = Buffer.alloc(0);
    for (let next = await this.chunks.next(); !next.done; next = await this.chunks.next());
  }
}

function text(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

function number(block: Buffer, start: number, length: number): number {
  const field = block.subarray(start, start + length);
  if (field[0]! & 0x80) {
    // base-256, big-endian, for values octal cannot hold in the field (a file over 8 GiB)
    let value = field[0]! & 0x7f;
    for (const byte of field.subarray(1)) value = value * 256 + byte;
    return value;
  }
  const digits = text(block, start, length).trim();
  return digits === '' ? 0 : Number.parseInt(digits, 8);
}

function checksumOk(block: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!; // the field itself counts as spaces
  return sum === number(block, 148, 8);
}

/** PAX records: "30 path=some/long/name\n", the length counting the whole record. */
function paxRecords(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(32, at);
    const length = Number.parseInt(data.subarray(at, space).toString(), 10);
    if (space === -1 || !(length > 0)) throw new Error('a PAX header that does not parse');
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    records[record.slice(0, equals)] = record.slice(equals + 1);
    at += length;
  }
  return records;
}

const padding = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;
const MAX_HEADER_DATA = 1024 * 1024; // a long name or PAX header, read whole: bounded

/** The entries of the tar archive in `source`, in order. */
export async function* readTar(source: AsyncIterable<Buffer>): AsyncGenerator<TarEntry> {
  const reader = new ChunkReader(source);
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  for (;;) {
    const block = await reader.take(BLOCK);
    if (block.length === 0 || block.every((byte) => byte === 0)) break; // the end (some writers stop short)
    if (!checksumOk(block)) throw new Error('not a tar archive (a header checksum is wrong)');
    const type = text(block, 156, 1) || '\0';
    const size = number(block, 124, 12);
    if (type === 'L' || type === 'K' || type === 'x' || type === 'g') {
      if (size > MAX_HEADER_DATA) throw new Error(`a ${size}-byte header entry: too big`);
      const data = (await reader.take(size + padding(size))).subarray(0, size);
      if (type === 'L') longName = text(data, 0, size);
      else if (type === 'K') longLink = text(data, 0, size);
      else if (type === 'x') pax = paxRecords(data);
      continue; // 'g': global PAX defaults, nothing we use
    }
    const prefix = text(block, 257, 6).startsWith('ustar') ? text(block, 345, 155) : '';
    const entrySize = pax.size ? Number(pax.size) : size;
    const entryType = TYPES[type];
    const entry: TarEntry = {
      name: pax.path ?? longName ?? (prefix ? `${prefix}/${text(block, 0, 100)}` : text(block, 0, 100)),
      type: entryType ?? 'file',
      mode: number(block, 100, 8) & 0o7777,
      uid: pax.uid ? Number(pax.uid) : number(block, 108, 8),
      gid: pax.gid ? Number(pax.gid) : number(block, 116, 8),
      size: entryType === 'file' ? entrySize : 0, // a link's size field says nothing
      mtime: pax.mtime ? Math.floor(Number(pax.mtime)) : number(block, 136, 12),
      linkname: pax.linkpath ?? longLink ?? text(block, 157, 100),
      devmajor: number(block, 329, 8),
      devminor: number(block, 337, 8),
      body: reader.pieces(entryType === 'file' ? entrySize : 0),
    };
    if (!entryType) throw new Error(`${entry.name}: an entry of unknown type "${type}"`);
    longName = longLink = undefined;
    pax = {};
    yield entry;
    for await (const _ of entry.body); // what the consumer did not read
    if (entryType === 'file') await reader.take(padding(entrySize));
  }
  await reader.drain();
}
