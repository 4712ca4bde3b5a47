// How every script in scripts/ reads its command line and how it fails. The command
// line: node:util's parseArgs, strict (an option it does not know is an error, never
// ignored). A failure: one line on stderr (shared/runtime/exit.ts: control characters
// shown, never sent), and the status says which kind: 2 for a command line the script
// cannot take (as the steps: shared/runtime/errors.ts), 1 for anything else.
// No zx here: scripts/image.ts reads its command line with this too, and zx would cost
// every pull ~50 ms of start-up.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { EXIT_USAGE } from '../../shared/runtime/errors.ts';
import { fail as exitWith } from '../../shared/runtime/exit.ts';

/** The command line, parsed; one that parseArgs refuses ends the script: why, then `usage`, status 2. */
export function parseCommandLine<T extends ParseArgsConfig>(usage: string, config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    // "Unknown option '--x'. To specify a positional argument...": the first sentence.
    const why = error instanceof Error ? error.message.split('. ')[0]! : String(error);
    usageError(`${why.charAt(0).toLowerCase()}${why.slice(1)}; ${usage}`);
  }
}

/** A command line the script cannot take: one line (the usage, say), status 2. */
export function usageError(message: string): never {
  exitWith(message, EXIT_USAGE);
}

/** Anything else that ends the script: one line, status 1. */
export function fail(message: string): never {
  exitWith(message, 1);
}

/**
 * An error caught, as the one line to say: its message; for a command that failed (zx's
 * ProcessOutput, which has its exit code), the last line it wrote on stderr, and how it ended.
 */
export function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (!('exitCode' in error)) return error.message;
  const { stderr, exitCode, signal } = error as Error & { stderr?: string; exitCode: number | null; signal?: string | null };
  const last = String(stderr ?? '')
    .trim()
    .split('\n')
    .at(-1);
  return `${last ? `${last} ` : ''}(${exitCode === null ? `killed by ${signal}` : `status ${exitCode}`})`;
}
