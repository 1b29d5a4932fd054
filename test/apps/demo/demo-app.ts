import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, type Logger } from '../../../core/logging/logger.ts';
import { AccountNotFoundError, AccountStore, type DemoAccountSpec } from './accounts.ts';
import { InvalidHazardError, mergeHazards, NO_HAZARDS, type HazardSettings } from './hazards.ts';
import { BadRequestError, html, json, readBody, type Reply } from './http.ts';
import { isSignedIn, sessionAccount, type AppState, type Route, type RouteContext } from './route.ts';
import { ADMIN_PREFIX, adminApi, mayAdminister, type AdminApi } from './routes/admin.ts';
import { securityRoutes } from './routes/security.ts';
import { signInRoutes } from './routes/sign-in.ts';
import { needsStepUp, stepUpRedirect, stepUpRoutes } from './routes/step-up.ts';
import type { SecretValue } from '../../../core/secrets/secret-value.ts';
import { csrfTokenMatches, SESSION_COOKIE, sessionCookie, SessionStore, type Session } from './sessions.ts';
import { errorPage } from './views/sign-in-views.ts';
import type { ViewContext } from './views/layout.ts';

export interface DemoAppOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Loopback (default); `0.0.0.0` when it runs in a pod and is reached through a Service. */
  host?: '127.0.0.1' | '0.0.0.0';
  /**
   * Lets a client off loopback use the admin API with `authorization: Bearer TOKEN` (a test reaching the
   * app in a pod); without it the admin API answers loopback only. Run pods never hold it.
   */
  adminToken?: SecretValue<string>;
  accounts?: DemoAccountSpec[];
  /** Defaults merged into every account's hazards; slowPages also delays anonymous pages. */
  hazards?: HazardSettings;
  /** Epoch milliseconds; tests pass one to control TOTP time steps. */
  clock?: () => number;
  logger?: Logger;
  /** Serve HTTPS with this certificate (PEM, the chain after the leaf) and key instead of HTTP. */
  tls?: DemoAppTls;
}

export interface DemoAppTls {
  cert: string | Buffer;
  key: string | Buffer;
}

export interface DemoApp {
  url: string;
  accounts: AccountStore;
  /** Accounts back to how the app started; every session signed out. */
  reset(): void;
  stop(): Promise<void>;
}

const ROUTES: Route[] = [...signInRoutes, ...stepUpRoutes, ...securityRoutes];

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

function contentSecurityPolicy(scriptNonce: string): string {
  return `default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'nonce-${scriptNonce}'; form-action 'self'; frame-ancestors 'none'`;
}

function guardReply(ctx: RouteContext, route: Route): Reply | null {
  if (route.guard === 'anonymous') return null;
  if (!isSignedIn(ctx)) return { status: 303, headers: { location: '/login' } };
  if (route.guard === 'settings' && needsStepUp(ctx)) return stepUpRedirect(ctx);
  return null;
}

async function routeRequest(
  app: AppState,
  session: Session,
  req: IncomingMessage,
  url: URL,
  scriptNonce: string,
): Promise<Reply> {
  const ctx: RouteContext = {
    app,
    req,
    url,
    session,
    form: new URLSearchParams(),
    account: sessionAccount(app, session),
    view: (): ViewContext => {
      const notice = session.notice;
      session.notice = null;
      const signedInAs = session.stage === 'signed-in' ? (sessionAccount(app, session)?.email ?? null) : null;
      return { csrfToken: session.csrfToken, signedInAs, notice, scriptNonce };
    },
  };
  const route = ROUTES.find((candidate) => candidate.path === url.pathname && candidate.method === req.method);
  if (!route) {
    const known = ROUTES.some((candidate) => candidate.path === url.pathname);
    return html(
      known ? 405 : 404,
      errorPage(ctx.view(), known ? 'Method not allowed' : 'Page not found', 'Nothing here.'),
    );
  }
  if (req.method === 'POST') {
    ctx.form = new URLSearchParams(await readBody(req));
    if (!csrfTokenMatches(session, ctx.form.get('_csrf'))) {
      return html(
        403,
        errorPage(ctx.view(), 'Forbidden', 'Your session expired or the form is stale. Reload the page and try again.'),
      );
    }
  }
  return guardReply(ctx, route) ?? route.handle(ctx);
}

function failureReply(error: unknown, logger: Logger, admin: boolean): Reply {
  const known =
    error instanceof BadRequestError || error instanceof InvalidHazardError || error instanceof AccountNotFoundError;
  const status = error instanceof AccountNotFoundError ? 404 : known ? 400 : 500;
  const reason = known ? error.reason : 'InternalError';
  // Messages are ours and never carry secrets; unknown errors are logged by type only.
  logger.warn(
    { reason, status },
    known ? error.message : `unexpected ${error instanceof Error ? error.name : typeof error}`,
  );
  const message = known ? error.message : 'Something went wrong.';
  return admin
    ? json(status, { error: reason, message })
    : { status, headers: { 'content-type': 'text/plain' }, body: message };
}

/** Set-Cookie when the browser's session id changed: new, rotated at sign-in, or dropped at sign-out. */
function cookieHeader(app: AppState, req: IncomingMessage, session: Session): Record<string, string> {
  if (!app.sessions.has(session))
    return { 'set-cookie': `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax` };
  const sent = new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([^;]+)`).exec(req.headers.cookie ?? '')?.[1];
  return sent === session.id ? {} : { 'set-cookie': sessionCookie(session) };
}

function send(res: ServerResponse, reply: Reply, extraHeaders: Record<string, string>): void {
  res.writeHead(reply.status, { ...SECURITY_HEADERS, ...extraHeaders, ...reply.headers });
  res.end(reply.body);
}

async function handle(
  app: AppState,
  admin: AdminApi,
  req: IncomingMessage,
  res: ServerResponse,
  adminToken?: SecretValue<string>,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://demo.invalid');
  if (url.pathname.startsWith(ADMIN_PREFIX)) {
    const reply = mayAdminister(req, adminToken)
      ? await admin.handle(req, url).catch((e: unknown) => failureReply(e, app.logger, true))
      : json(403, { error: 'Forbidden' });
    send(res, reply, {});
    return;
  }
  const scriptNonce = randomBytes(16).toString('base64');
  const { session } = app.sessions.forRequest(req);
  const reply = await routeRequest(app, session, req, url, scriptNonce).catch((e: unknown) =>
    failureReply(e, app.logger, false),
  );
  // slowPages follows the account the browser is signed in as after this request (else the app default).
  const delay = (sessionAccount(app, session)?.hazards ?? app.defaults).slowPages;
  if (delay > 0) await sleep(delay);
  send(res, reply, {
    'content-security-policy': contentSecurityPolicy(scriptNonce),
    ...cookieHeader(app, req, session),
  });
  app.logger.debug({ method: req.method, path: url.pathname, status: reply.status }, 'request');
}

export async function startDemoApp(options: DemoAppOptions = {}): Promise<DemoApp> {
  const host = options.host ?? '127.0.0.1';
  const app: AppState = {
    accounts: new AccountStore(options.accounts ?? [], options.hazards ?? {}),
    sessions: new SessionStore(),
    defaults: mergeHazards(NO_HAZARDS, options.hazards ?? {}),
    clock: options.clock ?? Date.now,
    logger: options.logger ?? createLogger('demo-app'),
  };
  const reset = (): void => {
    app.accounts.reset();
    app.sessions.clear();
  };
  const admin = adminApi(app, reset);
  const listener: RequestListener = (req, res) => {
    handle(app, admin, req, res, options.adminToken).catch((e: unknown) => {
      app.logger.error({ error: e instanceof Error ? e.name : typeof e }, 'request failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };
  const server = options.tls
    ? createTlsServer({ cert: options.tls.cert, key: options.tls.key }, listener)
    : createServer(listener);
  const scheme = options.tls ? 'https' : 'http';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  app.logger.info({ url: `${scheme}://${host}:${port}` }, 'demo app listening');
  return {
    url: `${scheme}://${host}:${port}`,
    accounts: app.accounts,
    reset,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
