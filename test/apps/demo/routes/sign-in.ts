import { checkCode } from '../totp.ts';
import { html, redirect, type Reply } from '../http.ts';
import type { Account } from '../accounts.ts';
import { isSignedIn, sessionAccount, type Route, type RouteContext } from '../route.ts';
import {
  captchaPage,
  dashboardPage,
  loginPage,
  rateLimitedPage,
  recoveryCodePage,
  twoFactorPage,
} from '../views/sign-in-views.ts';

const WRONG_PASSWORD = 'Incorrect email or password.';

function pendingAccount(ctx: RouteContext, stage: 'awaiting-totp' | 'captcha'): Account | undefined {
  return ctx.session.stage === stage ? (sessionAccount(ctx.app, ctx.session) ?? undefined) : undefined;
}

function signIn(ctx: RouteContext, account: Account): Reply {
  ctx.app.sessions.rotate(ctx.session);
  ctx.session.account = account;
  if (account.hazards.captcha) {
    ctx.session.stage = 'captcha';
    return redirect('/login/verify-human');
  }
  ctx.session.stage = account.totp ? 'awaiting-totp' : 'signed-in';
  return redirect(account.totp ? '/login/two-factor' : '/');
}

function submitPassword(ctx: RouteContext): Reply {
  const email = ctx.form.get('email') ?? '';
  const account = ctx.app.accounts.find(email);
  if (account && account.hazards.rateLimit > 0) {
    const seconds = account.hazards.rateLimit;
    ctx.app.logger.info({ email: account.email, retryAfterSeconds: seconds }, 'sign-in rate limited');
    return html(429, rateLimitedPage(ctx.view(), seconds), { 'retry-after': String(seconds) });
  }
  if (!account || !ctx.app.accounts.passwordMatches(account, ctx.form.get('password') ?? '')) {
    ctx.app.logger.info({ email }, 'password refused');
    return html(401, loginPage(ctx.view(), { error: WRONG_PASSWORD, email }));
  }
  ctx.app.logger.info({ email: account.email }, 'password accepted');
  return signIn(ctx, account);
}

function submitTotp(ctx: RouteContext): Reply {
  const account = pendingAccount(ctx, 'awaiting-totp');
  if (!account?.totp) return redirect('/login');
  const outcome = checkCode(account.totp, ctx.form.get('code') ?? '', ctx.app.clock());
  ctx.app.logger.info({ email: account.email, outcome }, outcome === 'accepted' ? 'code accepted' : 'code refused');
  if (outcome !== 'accepted') {
    const error = "That code didn't work. Try again.";
    return html(401, twoFactorPage(ctx.view(), { error, digits: account.totp.parameters.digits }));
  }
  ctx.session.stage = 'signed-in';
  return redirect('/');
}

function submitRecoveryCode(ctx: RouteContext): Reply {
  const account = pendingAccount(ctx, 'awaiting-totp');
  if (!account) return redirect('/login');
  const accepted = account.recoveryCodes?.consume(ctx.form.get('recovery_code') ?? '') ?? false;
  ctx.app.logger.info({ email: account.email }, accepted ? 'recovery code accepted' : 'recovery code refused');
  if (!accepted) return html(401, recoveryCodePage(ctx.view(), { error: "That recovery code didn't work." }));
  ctx.session.stage = 'signed-in';
  return redirect('/');
}

export const signInRoutes: Route[] = [
  {
    method: 'GET',
    path: '/',
    guard: 'anonymous',
    handle: (ctx) => (isSignedIn(ctx) ? html(200, dashboardPage(ctx.view())) : redirect('/login')),
  },
  {
    method: 'GET',
    path: '/login',
    guard: 'anonymous',
    handle: (ctx) => (isSignedIn(ctx) ? redirect('/') : html(200, loginPage(ctx.view()))),
  },
  { method: 'POST', path: '/login', guard: 'anonymous', handle: submitPassword },
  {
    method: 'GET',
    path: '/login/two-factor',
    guard: 'anonymous',
    handle: (ctx) => {
      const account = pendingAccount(ctx, 'awaiting-totp');
      if (!account?.totp) return redirect('/login');
      return html(200, twoFactorPage(ctx.view(), { digits: account.totp.parameters.digits }));
    },
  },
  { method: 'POST', path: '/login/two-factor', guard: 'anonymous', handle: submitTotp },
  {
    method: 'GET',
    path: '/login/recovery',
    guard: 'anonymous',
    handle: (ctx) =>
      pendingAccount(ctx, 'awaiting-totp') ? html(200, recoveryCodePage(ctx.view())) : redirect('/login'),
  },
  { method: 'POST', path: '/login/recovery', guard: 'anonymous', handle: submitRecoveryCode },
  {
    method: 'GET',
    path: '/login/verify-human',
    guard: 'anonymous',
    handle: (ctx) => (pendingAccount(ctx, 'captcha') ? html(200, captchaPage(ctx.view())) : redirect('/login')),
  },
  {
    // Never passes: the automation must stop and report that a person is needed.
    method: 'POST',
    path: '/login/verify-human',
    guard: 'anonymous',
    handle: (ctx) => html(422, captchaPage(ctx.view(), { error: "That didn't match. Try again." })),
  },
  {
    method: 'POST',
    path: '/logout',
    guard: 'anonymous',
    handle: (ctx) => {
      ctx.app.sessions.drop(ctx.session);
      return redirect('/login');
    },
  },
];
