import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logging/logger.ts';
import type { AccountCodes } from './account-codes.ts';
import type { Caller, CallerReview } from './caller-review.ts';
import { isCodeServiceError } from './code-errors.ts';
import type { IssuedCode } from './code-issuer.ts';
import { resultOf } from './code-metrics.ts';
import type { CodeOutcomes } from './code-outcomes.ts';
import { bearerToken, parseCodeRequest, type CodeRequest } from './code-request.ts';
import { sourceKey, type RateLimiter } from './rate-limiter.ts';

/** The limits a request passes; the global TokenReview limit sits inside CallerReview. */
export interface CodeRequestLimits {
  /** Every request, before it is authenticated: per source address. */
  perSource: RateLimiter;
  /** Every authenticated request: per user. */
  perCaller: RateLimiter;
}

export interface CodeServiceParts {
  review: CallerReview;
  limits: CodeRequestLimits;
  codes: AccountCodes;
  outcomes: CodeOutcomes;
  log: Logger;
}

export interface TlsFiles {
  cert: string | Buffer;
  key: string | Buffer;
}

/** What is known about a request so far, for its audit line whether or not it got a code. */
interface Attempt {
  caller?: Caller;
  request?: CodeRequest;
}

/**
 * Answers one code request: parse it, rate-limit per source address, authenticate (TokenReview,
 * itself limited globally), rate-limit per caller, authorise (SubjectAccessReview on
 * managedaccountmfas/code), read the active seed, issue a code.
 */
export function codeRequestHandler(parts: CodeServiceParts): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const started = performance.now();
    const attempt: Attempt = {};
    serve(parts, req, attempt).then(
      (issued) => {
        record(parts, req, attempt, undefined, started);
        sendJson(res, 200, {
          code: issued.code.reveal(), secondsRemaining: issued.secondsRemaining,
          period: issued.period, digits: issued.digits, algorithm: issued.algorithm,
        });
      },
      (e: unknown) => {
        record(parts, req, attempt, e, started);
        sendError(res, e, parts.log);
      },
    );
  };
}

async function serve(parts: CodeServiceParts, req: IncomingMessage, attempt: Attempt): Promise<IssuedCode> {
  // Parsed first so that even a refused request's audit line says which account was asked for.
  attempt.request = parseCodeRequest(req);
  // Before authenticating: a flood of made-up tokens must not become a flood of TokenReviews.
  parts.limits.perSource.take(sourceKey(req.socket.remoteAddress));
  attempt.caller = await parts.review.authenticate(bearerToken(req));
  parts.limits.perCaller.take(attempt.caller.username);
  const { namespace, name, purpose } = attempt.request;
  await parts.review.authorize(attempt.caller, namespace, name);
  return parts.codes.issue({ namespace, name }, purpose);
}

function record(parts: CodeServiceParts, req: IncomingMessage, attempt: Attempt, error: unknown, started: number): void {
  const reason = isCodeServiceError(error) ? error.reason : 'InternalError';
  const { caller, request } = attempt;
  parts.outcomes.record({
    user: caller ? caller.username : '(unauthenticated)',
    groups: caller?.groups,
    ...(request ?? { namespace: '', name: '', purpose: 'display' }),
    ...(error === undefined ? { result: 'issued' } : { result: resultOf(isCodeServiceError(error) ? error.reason : undefined), reason }),
    source: req.socket.remoteAddress ?? 'unknown',
  }, performance.now() - started);
}

function sendError(res: ServerResponse, e: unknown, log: Logger): void {
  if (!isCodeServiceError(e)) {
    log.error({ err: e instanceof Error ? { name: e.name } : undefined }, 'code request failed unexpectedly');
    sendJson(res, 500, { reason: 'InternalError', message: 'The code service failed; see the operator log.' });
    return;
  }
  const headers: Record<string, string> = {};
  if (e.retryAfterSeconds !== undefined) headers['retry-after'] = String(e.retryAfterSeconds);
  if (e.status === 401) headers['www-authenticate'] = 'Bearer realm="mfa-operator"';
  sendJson(res, e.status, { reason: e.reason, message: e.message }, headers);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

/** Serves the code endpoint over HTTPS; resolves once listening. */
export async function listenCodeService(
  parts: CodeServiceParts, tls: TlsFiles, port: number, host = '0.0.0.0',
): Promise<{ server: Server; port: number }> {
  const server = createServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, codeRequestHandler(parts));
  // A login request may wait up to one period for a fresh window; keep sockets open that long.
  server.requestTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}
