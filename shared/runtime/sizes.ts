// Sizes as docker writes them: "64m" is 64 MiB (units b, k, m, g: powers of 1024).
const MiB = 1024 * 1024;
const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: MiB, g: 1024 * MiB };

/** "64m" -> 67108864; undefined for anything else ("-1", "1x", "99999999999g"). */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)([bkmg]?)$/i.exec(text);
  if (!match) return undefined;
  const bytes = Math.floor(Number(match[1]) * UNITS[match[2]!.toLowerCase()]!);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A size for people: 67108864 -> "64 MiB". */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 * MiB],
    ['MiB', MiB],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} bytes`;
}
