import { html, redirect, type Reply } from '../http.ts';
import { signedInAccount, type Route, type RouteContext } from '../route.ts';
import { sudoPage } from '../views/sign-in-views.ts';

export const SUDO = '/settings/sudo';
const SUDO_MINUTES = 15;

/** Where to go after confirming: only security settings pages, so `next` cannot send the browser off-site. */
function nextPage(raw: string | null): string {
  return raw && /^\/settings\/security[\w/.-]*(\?[\w=&-]*)?$/.test(raw) ? raw : '/settings/security';
}

export function needsStepUp(ctx: RouteContext): boolean {
  return signedInAccount(ctx).hazards.stepUp && ctx.session.sudoUntil <= ctx.app.clock();
}

/** Back to the page asked for; a POST cannot be replayed as a GET, so it comes back to the settings page. */
export function stepUpRedirect(ctx: RouteContext): Reply {
  const next = ctx.req.method === 'GET' ? ctx.url.pathname + ctx.url.search : '/settings/security';
  return redirect(`${SUDO}?next=${encodeURIComponent(next)}`);
}

function confirmPassword(ctx: RouteContext): Reply {
  const account = signedInAccount(ctx);
  const next = nextPage(ctx.form.get('next'));
  if (!ctx.app.accounts.passwordMatches(account, ctx.form.get('password') ?? '')) {
    ctx.app.logger.info({ email: account.email }, 'step-up password refused');
    return html(401, sudoPage(ctx.view(), { next, error: 'Incorrect password.' }));
  }
  ctx.session.sudoUntil = ctx.app.clock() + SUDO_MINUTES * 60_000;
  ctx.app.logger.info({ email: account.email }, 'step-up password accepted');
  return redirect(next);
}

export const stepUpRoutes: Route[] = [
  {
    method: 'GET',
    path: SUDO,
    guard: 'signed-in',
    handle: (ctx) => html(200, sudoPage(ctx.view(), { next: nextPage(ctx.url.searchParams.get('next')) })),
  },
  { method: 'POST', path: SUDO, guard: 'signed-in', handle: confirmPassword },
];
