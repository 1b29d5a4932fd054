import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { SecretValue } from '../../../core/secrets/secret-value.ts';
import type { Account } from './accounts.ts';

export const SESSION_COOKIE = 'demo_session';

/** Where a browser is in signing in; only `signed-in` reaches the dashboard and settings. */
export type SignInStage = 'anonymous' | 'awaiting-totp' | 'captcha' | 'signed-in';

export interface Session {
  id: string;
  readonly csrfToken: string;
  /** The account whose password was accepted; see `sessionAccount` for whether it still exists. */
  account: Account | null;
  stage: SignInStage;
  /** Until when (epoch ms) the password was re-confirmed for security settings (hazard stepUp). */
  sudoUntil: number;
  /** Shown once after enrollment, for display and download only. */
  freshRecoveryCodes: SecretValue<string[]> | null;
  /** A one-time message for the next page. */
  notice: string | null;
}

function token(): string {
  return randomBytes(24).toString('base64url');
}

function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

export class SessionStore {
  readonly #sessions = new Map<string, Session>();

  /** The request's session, or a new anonymous one (then `isNew` asks the caller to set the cookie). */
  forRequest(req: IncomingMessage): { session: Session; isNew: boolean } {
    const existing = this.#sessions.get(cookieValue(req, SESSION_COOKIE) ?? '');
    if (existing) return { session: existing, isNew: false };
    const session: Session = {
      id: token(),
      csrfToken: token(),
      account: null,
      stage: 'anonymous',
      sudoUntil: 0,
      freshRecoveryCodes: null,
      notice: null,
    };
    this.#sessions.set(session.id, session);
    return { session, isNew: true };
  }

  /** A new id after the password is accepted, so a planted session id is worthless (session fixation). */
  rotate(session: Session): void {
    this.#sessions.delete(session.id);
    session.id = token();
    this.#sessions.set(session.id, session);
  }

  has(session: Session): boolean {
    return this.#sessions.get(session.id) === session;
  }

  drop(session: Session): void {
    this.#sessions.delete(session.id);
  }

  clear(): void {
    this.#sessions.clear();
  }
}

export function sessionCookie(session: Session): string {
  return `${SESSION_COOKIE}=${session.id}; Path=/; HttpOnly; SameSite=Lax`;
}

export function csrfTokenMatches(session: Session, candidate: string | null): boolean {
  const expected = Buffer.from(session.csrfToken);
  const given = Buffer.from(candidate ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
