// Names and arguments in the runtime's one-line messages.

/** As one line: control characters (a newline...) escaped, \\n-style. */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: they are what it looks for
  return text.replace(
    /[\x00-\x1f\x7f]/g,
    (c) => ({ '\n': '\\n', '\t': '\\t' })[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

/** As a shell would need it typed: `sh -c 'echo hi'`. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${printable(arg).replaceAll("'", `'\\''`)}'`;
}
