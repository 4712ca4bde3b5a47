// One self-contained HTML page, as `npm run matrix -- --html` and `npm run bench -- --html`
// write them: no network, no font, image or script from elsewhere (its Content Security
// Policy says so to the browser too); its look in the one <style> it carries. Text says
// what colour shows, so the page reads in greyscale and to a screen reader.

export type Lang = 'en' | 'ja';

/** HTML already made (by `html`): inserted as it is, never escaped again. */
export class Html {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** `text` as HTML text or an attribute's value. */
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);

/**
 * A template tag: each value is escaped, unless it is Html (or a list of them, joined).
 *   html`<td class=${kind}>${word}</td>`
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  const piece = (value: unknown): string =>
    value instanceof Html ? value.text : Array.isArray(value) ? value.map(piece).join('') : escapeHtml(String(value ?? ''));
  return new Html(strings.reduce((out, string, i) => out + string + (i < values.length ? piece(values[i]) : ''), ''));
}

/** The whole document. `style`: the page's CSS; `body`: its content. */
export function page({ lang, title, style, body }: { lang: Lang; title: string; style: string; body: Html }): string {
  // default-src 'none': the browser itself refuses any request the page would make.
  const policy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
  return `<!DOCTYPE html>
${html`<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${policy}">
<title>${title}</title>
<style>${new Html(style)}</style>
</head>
<body>
${body}
</body>
</html>`}
`;
}
