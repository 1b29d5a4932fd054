import type { Account } from '../accounts.ts';
import { html, redirect, type Reply } from '../http.ts';
import { renderQr } from '../qr.ts';
import { newRecoveryCodes, RecoveryCodeSet } from '../recovery-codes.ts';
import { signedInAccount, type Route, type RouteContext } from '../route.ts';
import {
  checkCode,
  displayedKey,
  newTotpCredential,
  otpauthUri,
  type CodeCheck,
  type TotpCredential,
} from '../totp.ts';
import {
  disablePage,
  OTHER_METHOD_NOTICE,
  recoveryCodesPage,
  regenerateCodesPage,
  securityPage,
  setupPage,
  type SecurityState,
} from '../views/security-views.ts';

const SETTINGS = '/settings/security';
const SETUP = '/settings/security/totp/setup';
const RECOVERY_CODES = '/settings/security/recovery-codes';
const REGENERATE_CODES = '/settings/security/recovery-codes/regenerate';

function securityState(account: Account): SecurityState {
  return {
    totpOn: account.totp !== null,
    smsOn: account.hazards.otherMfaMethod,
    extraAuthenticators: account.extraAuthenticators,
    awaitingAcknowledgement: account.pending?.recoveryCodes != null,
  };
}

function check(ctx: RouteContext, credential: TotpCredential, action: string): CodeCheck {
  const outcome = checkCode(credential, ctx.form.get('code') ?? '', ctx.app.clock());
  const email = signedInAccount(ctx).email;
  ctx.app.logger.info({ email, action, outcome }, outcome === 'accepted' ? 'code accepted' : 'code refused');
  return outcome;
}

function startEnrollment(ctx: RouteContext): Reply {
  const account = signedInAccount(ctx);
  if (account.totp) {
    return html(409, securityPage(ctx.view(), securityState(account), 'An authenticator app is already set up.'));
  }
  if (account.hazards.otherMfaMethod)
    return html(409, securityPage(ctx.view(), securityState(account), OTHER_METHOD_NOTICE));
  const credential = newTotpCredential(account.hazards.totp, { padded: account.hazards.keyWithPadding });
  account.pending = { credential, recoveryCodes: null };
  ctx.app.logger.info({ email: account.email }, 'authenticator app enrollment started');
  return redirect(SETUP);
}

async function showSetup(ctx: RouteContext, status = 200, error?: string): Promise<Reply> {
  const account = signedInAccount(ctx);
  const pending = account.pending;
  if (!pending) return redirect(SETTINGS);
  if (pending.recoveryCodes) return redirect(RECOVERY_CODES);
  const { hazards } = account;
  const view = ctx.view();
  const showKey = !hazards.qrOnly && ctx.url.searchParams.get('show-key') === '1';
  return html(
    status,
    setupPage(view, {
      qr: await renderQr(otpauthUri(pending.credential, account.email), hazards.qrFormat, view.scriptNonce),
      key: showKey ? displayedKey(pending.credential, hazards.lowercaseGroupedKey).reveal() : null,
      offerKeyLink: !hazards.qrOnly,
      parameters: pending.credential.parameters,
      ...(error ? { error } : {}),
    }),
  );
}

async function confirmEnrollment(ctx: RouteContext): Promise<Reply> {
  const account = signedInAccount(ctx);
  const pending = account.pending;
  if (!pending || pending.recoveryCodes) return redirect(pending ? RECOVERY_CODES : SETTINGS);
  if (check(ctx, pending.credential, 'confirm enrollment') !== 'accepted') {
    return showSetup(ctx, 422, "That code didn't work. Check the time on your device and try again.");
  }
  const codes = newRecoveryCodes();
  ctx.session.freshRecoveryCodes = codes;
  if (account.hazards.requireCodesAcknowledged) {
    pending.recoveryCodes = new RecoveryCodeSet(codes);
  } else {
    account.totp = pending.credential;
    account.recoveryCodes = new RecoveryCodeSet(codes);
    account.pending = null;
  }
  ctx.app.logger.info({ email: account.email, mfaOn: account.totp !== null }, 'authenticator app confirmed');
  return redirect(RECOVERY_CODES);
}

function acknowledgeCodes(ctx: RouteContext): Reply {
  const account = signedInAccount(ctx);
  const pending = account.pending;
  if (pending?.recoveryCodes) {
    account.totp = pending.credential;
    account.recoveryCodes = pending.recoveryCodes;
    account.pending = null;
    ctx.app.logger.info({ email: account.email }, 'recovery codes acknowledged; authenticator app on');
  }
  ctx.session.freshRecoveryCodes = null;
  ctx.session.notice = account.totp ? 'Two-factor authentication is on.' : null;
  return redirect(SETTINGS);
}

function downloadCodes(ctx: RouteContext): Reply {
  const codes = ctx.session.freshRecoveryCodes;
  if (!codes) return redirect(SETTINGS);
  return {
    status: 200,
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'content-disposition': 'attachment; filename="demo-saas-recovery-codes.txt"',
    },
    body: `${codes.reveal().join('\n')}\n`,
  };
}

/** A new set replaces the old one at once (its codes stop working) and is shown once, like the enrolment's. */
function regenerateCodes(ctx: RouteContext): Reply {
  const account = signedInAccount(ctx);
  if (!account.totp) return redirect(SETTINGS);
  const codes = newRecoveryCodes();
  account.recoveryCodes = new RecoveryCodeSet(codes);
  ctx.session.freshRecoveryCodes = codes;
  ctx.app.logger.info({ email: account.email }, 'recovery codes regenerated');
  return redirect(RECOVERY_CODES);
}

function turnOff(ctx: RouteContext): Reply {
  const account = signedInAccount(ctx);
  if (!account.totp) return redirect(SETTINGS);
  if (check(ctx, account.totp, 'turn off') !== 'accepted') {
    const error = "That code didn't work. Try again.";
    return html(422, disablePage(ctx.view(), { digits: account.totp.parameters.digits, error }));
  }
  account.totp = null;
  account.recoveryCodes = null;
  account.extraAuthenticators = 0;
  ctx.session.notice = 'Authenticator app turned off.';
  ctx.app.logger.info({ email: account.email }, 'authenticator app turned off');
  return redirect(SETTINGS);
}

export const securityRoutes: Route[] = [
  {
    method: 'GET',
    path: SETTINGS,
    guard: 'settings',
    handle: (ctx) => html(200, securityPage(ctx.view(), securityState(signedInAccount(ctx)))),
  },
  { method: 'POST', path: '/settings/security/totp/enroll', guard: 'settings', handle: startEnrollment },
  { method: 'GET', path: SETUP, guard: 'settings', handle: (ctx) => showSetup(ctx) },
  { method: 'POST', path: '/settings/security/totp/confirm', guard: 'settings', handle: confirmEnrollment },
  {
    method: 'GET',
    path: RECOVERY_CODES,
    guard: 'settings',
    handle: (ctx) => {
      const codes = ctx.session.freshRecoveryCodes;
      if (!codes) return redirect(SETTINGS);
      return html(200, recoveryCodesPage(ctx.view(), codes.reveal(), securityState(signedInAccount(ctx))));
    },
  },
  { method: 'GET', path: `${RECOVERY_CODES}.txt`, guard: 'settings', handle: downloadCodes },
  { method: 'POST', path: `${RECOVERY_CODES}/acknowledge`, guard: 'settings', handle: acknowledgeCodes },
  {
    method: 'GET',
    path: REGENERATE_CODES,
    guard: 'settings',
    handle: (ctx) => (signedInAccount(ctx).totp ? html(200, regenerateCodesPage(ctx.view())) : redirect(SETTINGS)),
  },
  { method: 'POST', path: REGENERATE_CODES, guard: 'settings', handle: regenerateCodes },
  {
    method: 'GET',
    path: '/settings/security/totp/disable',
    guard: 'settings',
    handle: (ctx) => {
      const totp = signedInAccount(ctx).totp;
      return totp ? html(200, disablePage(ctx.view(), { digits: totp.parameters.digits })) : redirect(SETTINGS);
    },
  },
  { method: 'POST', path: '/settings/security/totp/disable', guard: 'settings', handle: turnOff },
];
