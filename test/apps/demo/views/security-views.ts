import type { TotpParameters } from '../hazards.ts';
import { alert, codeField, escapeHtml, page, postForm, type ViewContext } from './layout.ts';

export const OTHER_METHOD_NOTICE =
  'SMS two-factor authentication is on. Turn off SMS before adding an authenticator app.';

export interface SecurityState {
  totpOn: boolean;
  smsOn: boolean;
  /** Authenticator apps beyond the first. */
  extraAuthenticators: number;
  /** Code confirmed, waiting for "I have saved these codes" (hazard requireCodesAcknowledged). */
  awaitingAcknowledgement: boolean;
}

function mfaStatus(state: SecurityState): string {
  const on = state.totpOn || state.smsOn;
  const pending = state.awaitingAcknowledgement
    ? ' <span id="mfa-pending">Pending: confirm you have saved your recovery codes.</span>'
    : '';
  return `<p id="mfa-status" data-mfa="${on ? 'on' : 'off'}">Two-factor authentication is ${on ? 'on' : 'off'}.${pending}</p>`;
}

function methodList(state: SecurityState): string {
  const sms = state.smsOn ? '<li>SMS: On</li>' : '';
  const extra = state.extraAuthenticators > 0 ? `<li>Other authenticator apps: ${state.extraAuthenticators}</li>` : '';
  return `<ul aria-label="Two-factor methods">
  <li>Authenticator app: ${state.totpOn ? 'On' : 'Not set up'}</li>${extra}${sms}
</ul>`;
}

function totpAction(ctx: ViewContext, state: SecurityState): string {
  if (state.totpOn)
    return `<p><a href="/settings/security/totp/disable">Turn off authenticator app</a></p>
<p><a href="/settings/security/recovery-codes/regenerate">Regenerate recovery codes</a></p>`;
  if (state.smsOn) return `<p id="other-mfa-method" role="note">${OTHER_METHOD_NOTICE}</p>`;
  return postForm(ctx, '/settings/security/totp/enroll', '', 'Turn on authenticator app');
}

export function securityPage(ctx: ViewContext, state: SecurityState, error?: string): string {
  return page(
    ctx,
    'Security',
    `${alert(error)}
<section aria-labelledby="two-factor-heading">
<h2 id="two-factor-heading">Two-factor authentication</h2>
${mfaStatus(state)}
${methodList(state)}
${totpAction(ctx, state)}
</section>`,
  );
}

export interface SetupView {
  qr: string;
  /** The text key, when the user asked for it; null keeps it hidden. */
  key: string | null;
  offerKeyLink: boolean;
  parameters: TotpParameters;
  error?: string;
}

function keySection(view: SetupView): string {
  if (view.key !== null) {
    const { algorithm, digits, period } = view.parameters;
    return `<p>Setup key: <code id="totp-setup-key">${escapeHtml(view.key)}</code></p>
<dl>
  <dt>Algorithm</dt><dd id="totp-algorithm">${algorithm}</dd>
  <dt>Digits</dt><dd id="totp-digits">${digits}</dd>
  <dt>Period (seconds)</dt><dd id="totp-period">${period}</dd>
</dl>`;
  }
  return view.offerKeyLink
    ? `<p><a href="/settings/security/totp/setup?show-key=1">Can't scan? Show the setup key</a></p>`
    : '';
}

export function setupPage(ctx: ViewContext, view: SetupView): string {
  return page(
    ctx,
    'Set up authenticator app',
    `<p>Scan this QR code with your authenticator app.</p>
${view.qr}
${keySection(view)}
<h2>Enter the code from the app</h2>
${alert(view.error)}
${postForm(ctx, '/settings/security/totp/confirm', codeField('Authentication code', view.parameters.digits), 'Verify code')}`,
  );
}

export function recoveryCodesPage(ctx: ViewContext, codes: string[], state: SecurityState): string {
  const items = codes.map((code) => `  <li><code>${escapeHtml(code)}</code></li>`).join('\n');
  return page(
    ctx,
    'Save your recovery codes',
    `${mfaStatus(state)}
<p>Keep these codes somewhere safe. Each one signs you in once if you lose your authenticator app.</p>
<ol id="recovery-codes" aria-label="Recovery codes">
${items}
</ol>
<p><a href="/settings/security/recovery-codes.txt" download="demo-saas-recovery-codes.txt">Download recovery codes</a></p>
${postForm(ctx, '/settings/security/recovery-codes/acknowledge', '', 'I have saved these codes')}`,
  );
}

export function regenerateCodesPage(ctx: ViewContext): string {
  return page(
    ctx,
    'Regenerate recovery codes',
    `<p>New recovery codes replace the ones you have: the old codes stop working at once.</p>
${postForm(ctx, '/settings/security/recovery-codes/regenerate', '', 'Regenerate recovery codes')}`,
  );
}

export function disablePage(ctx: ViewContext, options: { digits: number; error?: string }): string {
  return page(
    ctx,
    'Turn off authenticator app',
    `<p>Enter a current code from your authenticator app to turn it off.</p>
${alert(options.error)}
${postForm(ctx, '/settings/security/totp/disable', codeField('Authentication code', options.digits), 'Turn off')}`,
  );
}
