/** What every page needs to know about the browser it renders for. */
export interface ViewContext {
  csrfToken: string;
  signedInAs: string | null;
  /** One-time notice from the previous step, shown as role=status. */
  notice: string | null;
  /** Per-response nonce allowed by the Content-Security-Policy for inline scripts. */
  scriptNonce: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

export function alert(message: string | null | undefined): string {
  return message ? `<p role="alert" class="error">${escapeHtml(message)}</p>` : '';
}

export function postForm(ctx: ViewContext, action: string, fields: string, button: string): string {
  return `<form method="post" action="${escapeHtml(action)}">
  <input type="hidden" name="_csrf" value="${escapeHtml(ctx.csrfToken)}">
  ${fields}
  <button type="submit">${escapeHtml(button)}</button>
</form>`;
}

export function codeField(label = 'Authentication code', digits = 6): string {
  return `<p><label for="totp-code">${escapeHtml(label)}</label>
  <input id="totp-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code"
    pattern="[0-9]*" maxlength="${digits}" required></p>`;
}

export function passwordField(): string {
  return `<p><label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required></p>`;
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:0;color:#1f2328}
header{display:flex;gap:1rem;align-items:center;padding:.75rem 1.5rem;background:#24292f;color:#fff}
header a{color:#fff}header form{margin-left:auto}main{max-width:40rem;padding:1.5rem}
label{display:block;font-weight:600;margin-bottom:.25rem}input{font-size:1rem;padding:.4rem}
button{font-size:1rem;padding:.4rem .9rem;margin-top:.5rem}.error{color:#b3261e}
code{font-size:1.1rem;letter-spacing:.05em}#totp-qr{display:block;margin:1rem 0}`;

function accountNav(ctx: ViewContext): string {
  if (!ctx.signedInAs) return '';
  return `<nav aria-label="Account"><a href="/settings/security">Security settings</a></nav>
  <span>${escapeHtml(ctx.signedInAs)}</span>
  ${postForm(ctx, '/logout', '', 'Sign out')}`;
}

export function page(ctx: ViewContext, title: string, body: string): string {
  const notice = ctx.notice ? `<p role="status">${escapeHtml(ctx.notice)}</p>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Demo SaaS</title>
<style>${STYLE}</style>
</head>
<body>
<header><a href="/">Demo SaaS</a>${accountNav(ctx)}</header>
<main>
<h1>${escapeHtml(title)}</h1>
${notice}
${body}
</main>
</body>
</html>
`;
}
