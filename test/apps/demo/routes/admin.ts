import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { SecretValue } from '../../../../core/secrets/secret-value.ts';
import type { AccountStore, DemoAccountSpec } from '../accounts.ts';
import type { HazardSettings } from '../hazards.ts';
import { BadRequestError, json, noContent, readJson, type Reply } from '../http.ts';
import type { AppState } from '../route.ts';

export const ADMIN_PREFIX = '/__admin/';

/** Test-only JSON API: arrange accounts and hazards, read MFA state. Never returns seeds, passwords or codes. */
export interface AdminApi {
  handle(req: IncomingMessage, url: URL): Promise<Reply>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function accountSpec(email: string, body: unknown): DemoAccountSpec {
  if (!isObject(body) || typeof body.password !== 'string') {
    throw new BadRequestError('body must be { "password": "...", "hazards": { ... } }');
  }
  if (body.hazards !== undefined && !isObject(body.hazards)) throw new BadRequestError('hazards must be an object');
  return { email, password: body.password, hazards: (body.hazards ?? {}) as HazardSettings };
}

export function isLoopback(req: IncomingMessage): boolean {
  const address = req.socket.remoteAddress ?? '';
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Loopback, or a client that sends the app's admin token (a test reaching the app in a pod). */
export function mayAdminister(req: IncomingMessage, adminToken: SecretValue<string> | undefined): boolean {
  if (isLoopback(req)) return true;
  const sent = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
  return adminToken !== undefined && sent !== undefined && timingSafeEqual(digest(sent), digest(adminToken.reveal()));
}

/** What the account's owner does in the app without the operator: verification tests find it as drift. */
const BEHIND_THE_OPERATORS_BACK: Record<string, (accounts: AccountStore, email: string) => Reply> = {
  '/totp/off': (accounts, email) => {
    accounts.turnTotpOff(email);
    return json(200, accounts.status(email));
  },
  '/authenticators': (accounts, email) => {
    if (!accounts.addAuthenticator(email))
      return json(409, { error: 'TotpOff', message: 'turn the authenticator app on first' });
    return json(200, accounts.status(email));
  },
};

export function adminApi(app: AppState, reset: () => void): AdminApi {
  async function accountRequest(req: IncomingMessage, email: string, rest: string): Promise<Reply> {
    const { accounts } = app;
    if (rest === '' && req.method === 'PUT') {
      const created = accounts.upsert(accountSpec(email, await readJson(req)));
      return json(created ? 201 : 200, accounts.status(email));
    }
    if (rest === '' && req.method === 'GET') return json(200, accounts.status(email));
    if (rest === '' && req.method === 'DELETE') {
      accounts.delete(email);
      return noContent();
    }
    if (rest === '/hazards' && req.method === 'PATCH') {
      const body = await readJson(req);
      if (!isObject(body)) throw new BadRequestError('body must be an object of hazards');
      accounts.setHazards(email, body as HazardSettings);
      return json(200, accounts.status(email));
    }
    return json(405, { error: 'MethodNotAllowed' });
  }

  return {
    async handle(req, url) {
      const path = url.pathname.slice(ADMIN_PREFIX.length);
      if (path === 'health' && req.method === 'GET') return json(200, { ok: true });
      if (path === 'reset' && req.method === 'POST') {
        reset();
        return noContent();
      }
      const match = /^accounts\/([^/]+)(\/hazards|\/totp\/off|\/authenticators)?$/.exec(path);
      if (!match?.[1]) return json(404, { error: 'NotFound' });
      const [email, rest] = [decodeURIComponent(match[1]), match[2] ?? ''];
      const ownerAction = req.method === 'POST' ? BEHIND_THE_OPERATORS_BACK[rest] : undefined;
      return ownerAction ? ownerAction(app.accounts, email) : accountRequest(req, email, rest);
    },
  };
}
