// Names and arguments in the runtime's one-line messages.

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const CONTROL = /[\x00-\x1f\x7f]/g;
const ESCAPES: Record<string, string> = { '\n': '\\n', '\t': '\\t' };

/** As one line: control characters (a newline...) escaped, \\n-style. */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** As a shell would need it typed: `sh -c 'echo hi'`. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${printable(arg).replaceAll("'", `'\\''`)}'`;
}
