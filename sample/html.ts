/** HTML rendering without a template engine: every interpolated value is escaped. */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]);
}

/** Markup produced by `html` (already escaped), so it can be nested without double escaping. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/** Tagged template: `html\`<p>${name}</p>\`` escapes `name`; nested `html` fragments pass as they are. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0];
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1];
  });
  return new SafeHtml(out);
}

const STYLE = `
  *, *::before, *::after { box-sizing: border-box; }
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 2rem auto; padding: 0 1rem; color: #222;
         overflow-wrap: anywhere; }
  h1 { font-size: 1.4rem; }
  h2 { font-size: 1.1rem; margin: 0 0 .5rem; }
  .card { border: 1px solid #ddd; border-radius: 8px; padding: 1rem 1.25rem; margin: 1rem 0; }
  .card > :first-child { margin-top: 0; }
  .card > :last-child { margin-bottom: 0; }
  .error { border-color: #d33; background: #fff5f5; }
  .notice { margin: 1rem 0; padding: .75rem 1rem; border: 1px solid #9ccc9c; border-left: 6px solid #2e7d32;
            border-radius: 8px; background: #edf7ed; color: #1e4620; font-weight: 500; }
  form { margin: .5rem 0 0; }
  .login { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
  .login label { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; flex: 1 1 14rem; }
  .login input { flex: 1 1 8rem; min-width: 0; }
  .login label.remember { flex: 1 1 100%; order: 1; gap: .4rem; }
  .login label.remember input { flex: none; margin: 0; }
  input, button { font: inherit; padding: .3rem .6rem; }
  button { cursor: pointer; }
  code { background: #f4f4f4; padding: 0 .25rem; border-radius: 4px; white-space: nowrap; }
  .api { color: #555; font-size: .9rem; }
  table.sessions { width: 100%; border-collapse: collapse; margin-bottom: .5rem; }
  .sessions th, .sessions td { text-align: left; padding: .4rem .5rem .4rem 0; border-bottom: 1px solid #eee; vertical-align: top; }
  .sessions tr.current .browser { font-weight: 600; }
  .badge { display: inline-block; font-size: .75rem; padding: 0 .4rem; border-radius: 999px; background: #e3f0ff; color: #0b4f9c;
           white-space: nowrap; }
  /* Phones: each session becomes a small block of labelled lines instead of a row of columns. */
  @media (max-width: 30rem) {
    body { margin-top: 1rem; }
    .card { padding: .75rem 1rem; }
    .sessions thead { display: none; }
    .sessions, .sessions tbody, .sessions tr, .sessions td { display: block; }
    .sessions tr { padding: .5rem 0; border-bottom: 1px solid #eee; }
    .sessions td { border: 0; padding: .1rem 0; }
    .sessions td[data-label="Started"]::before, .sessions td[data-label="Last seen"]::before {
      content: attr(data-label) ": "; color: #666; }
  }
`;

export function layout(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${new SafeHtml(STYLE)}</style>
</head>
<body>
${body}
</body>
</html>
`.value;
}
