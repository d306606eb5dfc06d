import { createHash } from 'node:crypto';

/**
 * The frame of the account pages: one inline style sheet, allowed by its hash, and nothing
 * else: no script, no image, no font, nothing from another origin.
 */
const STYLE = `
body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1f2937;background:#f3f4f6}
main{max-width:28rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002}
h1{font-size:1.4rem;margin:0 0 1rem}
label{display:block;margin:1rem 0 .25rem;font-weight:600}
input{box-sizing:border-box;width:100%;padding:.5rem;font:inherit;border:1px solid #9ca3af;border-radius:4px}
button{margin-top:1.25rem;padding:.6rem 1rem;font:inherit;color:#fff;background:#1d4ed8;border:0;border-radius:4px;cursor:pointer}
.error{padding:.75rem;color:#991b1b;background:#fee2e2;border-radius:4px}
.note{color:#4b5563;font-size:.875rem}
`;

const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

/**
 * form-action 'self': even injected markup could not post the token elsewhere. With no script
 * allowed at all, the pages work, and must work, as plain forms.
 */
export const PAGE_CSP = `default-src 'none'; style-src ${STYLE_HASH}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`;

export const escapeHtml = (value: string) =>
  value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A whole page; `body` is trusted markup built by the views, every value in it escaped. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)} · Homefront</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`;
}
