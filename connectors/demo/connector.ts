import type { Locator } from 'playwright-core';
import type { Connector, ConnectorContext, EnrollmentSecret, MfaState } from '../sdk/connector.ts';
import { readEnrollmentSecret } from '../sdk/enrollment-secret.ts';
import {
  challengeRequired,
  connectorOutdated,
  ConnectorError,
  enrollmentRejected,
  mfaAlreadyEnabled,
  otherMfaMethodEnabled,
} from '../sdk/errors.ts';
import { SecretValue } from '../sdk/core.ts';
import { totpParametersFromText } from '../sdk/otpauth-uri.ts';
import { fillSecret } from '../sdk/secret-input.ts';
import { deploymentLoginHosts } from '../sdk/deployment-hosts.ts';
import { signIn } from './connector-login.ts';
import {
  alertText,
  APP,
  expectVisible,
  heading,
  navigate,
  openSecurityPage,
  passStepUp,
  pathOf,
  submit,
} from './connector-pages.ts';

const SECURITY_PAGE = '/settings/security';

/** Automation for the bundled demo app, coded against the page contract in test/apps/demo/README.md. */
export const demoConnector: Connector = {
  id: 'demo',
  displayName: APP,
  version: '1.0.0',
  // Loopback, plus the hosts the cluster admin names when the app runs in a cluster (connectors/sdk/deployment-hosts.ts: MFA_DEMO_ALLOWED_LOGIN_HOSTS); read on use.
  get allowedLoginHosts(): readonly string[] {
    return ['127.0.0.1', 'localhost', ...deploymentLoginHosts('demo')];
  },
  defaultLoginUrl: 'http://127.0.0.1:8081/login',
  secretElements: ['#password', '#totp-code', '#recovery-code', '#totp-qr', '#totp-setup-key', '#recovery-codes'],

  login: signIn,
  readMfaState,
  beginTotpEnrollment,
  confirmTotpEnrollment,
  readRecoveryCodes,
  acknowledgeRecoveryCodes,
  regenerateRecoveryCodes,
  disableTotp,
};

async function readMfaState(ctx: ConnectorContext): Promise<MfaState> {
  await openSecurityPage(ctx, SECURITY_PAGE, 'opening the security settings');
  // The contract's list by the attribute that names it: this read is on every run, and the items by
  // role inside a list found by its name took 36 ms here, by CSS 8 (measured beside bench/enroll.ts).
  const methods = ctx.page.locator('ul[aria-label="Two-factor methods"]');
  await expectVisible(ctx, methods, 'the "Two-factor methods" list');
  const items = (await methods.locator(':scope > li').allInnerTexts()).map((text) => text.trim());
  const totpEnabled = items.includes('Authenticator app: On');
  const otherMethods = items
    .filter((item) => item.endsWith(': On') && !item.startsWith('Authenticator app'))
    .map((item) => item.slice(0, -': On'.length).toLowerCase());
  const more = items.map((item) => /^Other authenticator apps: (\d+)$/.exec(item)?.[1]).find((n) => n !== undefined);
  return { totpEnabled, otherMethods, ...(totpEnabled ? { totpAuthenticators: 1 + Number(more ?? 0) } : {}) };
}

async function beginTotpEnrollment(ctx: ConnectorContext): Promise<EnrollmentSecret> {
  const { page, timeouts } = ctx;
  // The runner calls this on the settings page readMfaState has just read; load it only from elsewhere.
  if (pathOf(ctx) !== SECURITY_PAGE) await openSecurityPage(ctx, SECURITY_PAGE, 'opening the security settings');
  const turnOn = page.getByRole('button', { name: 'Turn on authenticator app' });
  await refuseWhenMfaPresent(ctx, turnOn);
  const response = await submit(ctx, turnOn, 'starting enrollment');
  await passStepUp(ctx);
  if (response.status() === 409) throw await refusedEnrollment(ctx);
  if ((await heading(ctx)) !== 'Set up authenticator app')
    throw connectorOutdated(APP, 'the "Set up authenticator app" page');
  const showKey = page.getByRole('link', { name: "Can't scan? Show the setup key" });
  if ((await showKey.count()) > 0) {
    await navigate(ctx, () => showKey.click({ timeout: timeouts.actionMs }), 'showing the setup key');
  }
  const textKey = page.locator('#totp-setup-key');
  const hasTextKey = (await textKey.count()) > 0;
  const [read, defaults] = await Promise.all([
    readEnrollmentSecret(
      APP,
      { qr: page.locator('#totp-qr'), ...(hasTextKey ? { textKey } : {}), timeoutMs: timeouts.actionMs },
      ctx.logger,
    ),
    hasTextKey ? readShownParameters(ctx) : { issuer: APP },
  ]);
  return { ...read, defaults };
}

/**
 * The app hides the "Turn on" button in these cases; say why instead of reporting a missing button.
 * The page has loaded, so one look at the three elements tells.
 */
async function refuseWhenMfaPresent(ctx: ConnectorContext, turnOn: Locator): Promise<void> {
  const [otherMethod, turnOff, button] = await Promise.all([
    ctx.page.locator('#other-mfa-method').count(),
    ctx.page.getByRole('link', { name: 'Turn off authenticator app' }).count(),
    turnOn.count(),
  ]);
  if (otherMethod > 0) throw otherMfaMethodEnabled(APP, ['sms']);
  if (turnOff > 0) throw mfaAlreadyEnabled(APP);
  if (button === 0) throw connectorOutdated(APP, 'the "Turn on authenticator app" button');
}

async function refusedEnrollment(ctx: ConnectorContext): Promise<ConnectorError> {
  const alert = await alertText(ctx);
  if (alert.startsWith('An authenticator app is already set up')) return mfaAlreadyEnabled(APP);
  if (alert.includes('SMS')) return otherMfaMethodEnabled(APP, ['sms']);
  return connectorOutdated(APP, 'a known reason for the refused enrollment');
}

/** The setup page lists the parameters beside the key; the QR code's URI still wins when both exist. */
async function readShownParameters(ctx: ConnectorContext): Promise<EnrollmentSecret['defaults']> {
  const text = async (selector: string) =>
    (await ctx.page.locator(selector).innerText({ timeout: ctx.timeouts.actionMs })).trim();
  const [algorithm, digits, period] = await Promise.all([
    text('#totp-algorithm'),
    text('#totp-digits'),
    text('#totp-period'),
  ]);
  const shown = totpParametersFromText({ algorithm, digits, period });
  return { ...shown, issuer: APP };
}

async function confirmTotpEnrollment(ctx: ConnectorContext, code: SecretValue<string>): Promise<void> {
  const field = await expectVisible(ctx, ctx.page.getByLabel('Authentication code'), 'Authentication code field');
  await fillSecret(ctx, field, code, 'confirmation code');
  const response = await submit(ctx, ctx.page.getByRole('button', { name: 'Verify code' }), 'confirming enrollment');
  if (response.status() === 422) throw enrollmentRejected(APP, 'the confirmation code was refused');
  if ((await heading(ctx)) !== 'Save your recovery codes')
    throw connectorOutdated(APP, 'the "Save your recovery codes" page');
}

async function readRecoveryCodes(ctx: ConnectorContext): Promise<SecretValue<readonly string[]>> {
  const list = ctx.page.getByRole('list', { name: 'Recovery codes' });
  await expectVisible(ctx, list, 'the "Recovery codes" list');
  const codes = (await list.locator('li code').allInnerTexts()).map((code) => code.trim()).filter(Boolean);
  return new SecretValue(codes);
}

async function acknowledgeRecoveryCodes(ctx: ConnectorContext): Promise<void> {
  const saved = ctx.page.getByRole('button', { name: 'I have saved these codes' });
  await expectVisible(ctx, saved, 'the "I have saved these codes" button');
  await submit(ctx, saved, 'acknowledging the recovery codes');
}

/** The settings' "Regenerate recovery codes" form: the app replaces the set and shows the new one on the codes page. */
async function regenerateRecoveryCodes(ctx: ConnectorContext): Promise<SecretValue<readonly string[]>> {
  await openSecurityPage(ctx, '/settings/security/recovery-codes/regenerate', 'opening "Regenerate recovery codes"');
  // The app sends a session without an authenticator back to the settings page.
  if ((await heading(ctx)) !== 'Regenerate recovery codes')
    throw connectorOutdated(APP, 'the "Regenerate recovery codes" page (is the authenticator app on?)');
  const regenerate = ctx.page.getByRole('button', { name: 'Regenerate recovery codes' });
  await expectVisible(ctx, regenerate, 'the "Regenerate recovery codes" button');
  await submit(ctx, regenerate, 'regenerating the recovery codes');
  if ((await heading(ctx)) !== 'Save your recovery codes')
    throw connectorOutdated(APP, 'the "Save your recovery codes" page after regenerating');
  const codes = await readRecoveryCodes(ctx);
  if (codes.reveal().length === 0) throw connectorOutdated(APP, 'the new recovery codes in the "Recovery codes" list');
  return codes;
}

async function disableTotp(ctx: ConnectorContext, code: SecretValue<string> | undefined): Promise<void> {
  // The turn-off form asks for an authenticator code; a session opened with a recovery code has none.
  if (!code) throw challengeRequired(APP, 'an authenticator code to turn the authenticator app off');
  await openSecurityPage(ctx, '/settings/security/totp/disable', 'opening "Turn off authenticator app"');
  const field = await expectVisible(ctx, ctx.page.getByLabel('Authentication code'), 'Authentication code field');
  await fillSecret(ctx, field, code, 'turn-off code');
  const response = await submit(
    ctx,
    ctx.page.getByRole('button', { name: 'Turn off' }),
    'turning off the authenticator app',
  );
  if (response.status() === 422) {
    throw new ConnectorError(
      'EnrollmentRejected',
      `${APP} refused the code to turn off the authenticator app; the run will retry.`,
    );
  }
}
