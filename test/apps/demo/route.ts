import type { IncomingMessage } from 'node:http';
import type { Logger } from '../../../core/logging/logger.ts';
import type { Account, AccountStore } from './accounts.ts';
import type { Hazards } from './hazards.ts';
import type { Reply } from './http.ts';
import type { Session, SessionStore } from './sessions.ts';
import type { ViewContext } from './views/layout.ts';

export interface AppState {
  accounts: AccountStore;
  sessions: SessionStore;
  /** Hazards for requests no account is known for yet (slowPages on the login page). */
  defaults: Hazards;
  clock: () => number;
  logger: Logger;
}

export interface RouteContext {
  app: AppState;
  req: IncomingMessage;
  url: URL;
  session: Session;
  /** The posted form (CSRF already checked); empty for GET. */
  form: URLSearchParams;
  /** The signed-in account; set for routes guarded by `signed-in` or `settings`. */
  account: Account | null;
  /** Builds the page context now, taking the session's one-time notice. */
  view(): ViewContext;
}

/**
 * - `anonymous`: anyone.
 * - `signed-in`: a fully signed-in session, else 303 to /login.
 * - `settings`: signed in and, with hazard stepUp, a recently confirmed password.
 */
export type Guard = 'anonymous' | 'signed-in' | 'settings';

export interface Route {
  method: 'GET' | 'POST';
  path: string;
  guard: Guard;
  handle(ctx: RouteContext): Reply | Promise<Reply>;
}

/** The session's account, unless it was replaced, deleted or reset since: then the session counts for nothing. */
export function sessionAccount(app: AppState, session: Session): Account | null {
  return session.account && app.accounts.holds(session.account) ? session.account : null;
}

export function isSignedIn(ctx: RouteContext): boolean {
  return ctx.session.stage === 'signed-in' && ctx.account !== null;
}

/** The account a route guarded by `signed-in` or `settings` runs for. */
export function signedInAccount(ctx: RouteContext): Account {
  if (!ctx.account) throw new Error(`route ${ctx.url.pathname} needs a signed-in guard`);
  return ctx.account;
}
