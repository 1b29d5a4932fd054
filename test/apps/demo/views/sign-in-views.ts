import { alert, codeField, escapeHtml, page, passwordField, postForm, type ViewContext } from './layout.ts';

export function loginPage(ctx: ViewContext, options: { error?: string; email?: string } = {}): string {
  const fields = `<p><label for="email">Email address</label>
  <input id="email" name="email" type="email" autocomplete="username" value="${escapeHtml(options.email ?? '')}" required></p>
  ${passwordField()}`;
  return page(ctx, 'Sign in', `${alert(options.error)}${postForm(ctx, '/login', fields, 'Sign in')}`);
}

export function rateLimitedPage(ctx: ViewContext, retryAfterSeconds: number): string {
  return page(
    ctx,
    'Too many sign-in attempts',
    `${alert(`Too many sign-in attempts. Try again in ${retryAfterSeconds} seconds.`)}<p><a href="/login">Back to sign in</a></p>`,
  );
}

export function twoFactorPage(ctx: ViewContext, options: { error?: string; digits: number }): string {
  return page(
    ctx,
    'Two-factor authentication',
    `<p>Enter the code from your authenticator app.</p>
${alert(options.error)}${postForm(ctx, '/login/two-factor', codeField('Authentication code', options.digits), 'Verify')}
<p><a href="/login/recovery">Use a recovery code</a></p>`,
  );
}

export function recoveryCodePage(ctx: ViewContext, options: { error?: string } = {}): string {
  const field = `<p><label for="recovery-code">Recovery code</label>
  <input id="recovery-code" name="recovery_code" type="text" autocomplete="off" required></p>`;
  return page(
    ctx,
    'Use a recovery code',
    `<p>Each recovery code can be used once.</p>
${alert(options.error)}${postForm(ctx, '/login/recovery', field, 'Verify')}
<p><a href="/login/two-factor">Use your authenticator app instead</a></p>`,
  );
}

/** A challenge an automation is not meant to pass: it must report ChallengeRequired instead. */
export function captchaPage(ctx: ViewContext, options: { error?: string } = {}): string {
  const field = `<div role="img" aria-label="Distorted characters" class="captcha">&#x2248;&#x2307;&#x2241;&#x224B;&#x2250;</div>
  <p><label for="captcha">Characters in the image</label>
  <input id="captcha" name="captcha" type="text" autocomplete="off" required></p>`;
  return page(
    ctx,
    'Verify you are human',
    `<p>We need to make sure you are not a robot.</p>
${alert(options.error)}${postForm(ctx, '/login/verify-human', field, 'Continue')}`,
  );
}

export function dashboardPage(ctx: ViewContext): string {
  return page(
    ctx,
    'Dashboard',
    `<p>Signed in as ${escapeHtml(ctx.signedInAs ?? '')}.</p>
<p><a href="/settings/security">Security settings</a></p>`,
  );
}

export function sudoPage(ctx: ViewContext, options: { next: string; error?: string }): string {
  const fields = `<input type="hidden" name="next" value="${escapeHtml(options.next)}">${passwordField()}`;
  return page(
    ctx,
    'Confirm your password',
    `<p>You are entering security settings. Confirm your password to continue.</p>
${alert(options.error)}${postForm(ctx, '/settings/sudo', fields, 'Confirm')}`,
  );
}

export function errorPage(ctx: ViewContext, title: string, message: string): string {
  return page(ctx, title, alert(message));
}
