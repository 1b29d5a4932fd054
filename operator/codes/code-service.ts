import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../core/logging/logger.ts';
import type { AccountCodes } from './account-codes.ts';
import { RECOVERY_CODE_ACCESS, type Caller, type CallerReview } from './caller-review.ts';
import { CodeServiceError, isCodeServiceError } from './code-errors.ts';
import type { IssuedCode } from './code-issuer.ts';
import { resultOf } from './code-metrics.ts';
import type { CodeOutcomes } from './code-outcomes.ts';
import {
  bearerToken,
  parseCodeRequest,
  parseRecoveryCodeRequest,
  parseRunRequest,
  type CodeRequest,
  type RecoveryCodeRequest,
  type RunCodeRequest,
} from './code-request.ts';
import { sourceKey, type RateLimiter } from './rate-limiter.ts';
import type { RunGrant } from './run-callers.ts';
import type { RunCodes } from './run-codes.ts';
import type { HandedOutCode, RecoveryCodes } from './recovery-codes.ts';

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
  /** The run endpoint (`/v1/namespaces/{ns}/runs/{job}/...`); without it those paths are refused. */
  runs?: RunCodes;
  /** The recovery code endpoint (`POST .../managedaccountmfas/{name}/recovery-code`); without it that path is refused. */
  recovery?: RecoveryCodes;
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
  run?: RunCodeRequest;
  grant?: RunGrant;
  recovery?: RecoveryCodeRequest;
  handedOut?: HandedOutCode;
}

/** A 200 answer: an issued code, or a run's slot listing. */
type Answer = { issued: IssuedCode } | { slots: readonly string[] } | { recovery: HandedOutCode };

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
      (answer) => {
        record(parts, req, attempt, undefined, started);
        if ('recovery' in answer) {
          const { code, index, remaining } = answer.recovery;
          sendJson(res, 200, { code: code.reveal(), index, remaining });
          return;
        }
        if ('slots' in answer) {
          sendJson(res, 200, { slots: answer.slots });
          return;
        }
        const { issued } = answer;
        sendJson(res, 200, {
          code: issued.code.reveal(),
          secondsRemaining: issued.secondsRemaining,
          period: issued.period,
          digits: issued.digits,
          algorithm: issued.algorithm,
        });
      },
      (e: unknown) => {
        record(parts, req, attempt, e, started);
        sendError(res, e, parts.log);
      },
    );
  };
}

async function serve(parts: CodeServiceParts, req: IncomingMessage, attempt: Attempt): Promise<Answer> {
  // Parsed first so that even a refused request's audit line says which account was asked for.
  attempt.run = parseRunRequest(req);
  if (attempt.run) return serveRun(parts, req, attempt, attempt.run);
  attempt.recovery = parseRecoveryCodeRequest(req);
  if (attempt.recovery) return serveRecovery(parts, req, attempt, attempt.recovery);
  attempt.request = parseCodeRequest(req);
  // Before authenticating: a flood of made-up tokens must not become a flood of TokenReviews.
  parts.limits.perSource.take(sourceKey(req.socket.remoteAddress));
  const caller = await authenticate(parts, req, attempt);
  const { namespace, name, purpose } = attempt.request;
  await parts.review.authorize(caller, namespace, name);
  return { issued: await parts.codes.issue({ namespace, name }, purpose) };
}

/** The same limits and TokenReview as an account request; then the run checks instead of a SubjectAccessReview. */
async function serveRun(
  parts: CodeServiceParts,
  req: IncomingMessage,
  attempt: Attempt,
  run: RunCodeRequest,
): Promise<Answer> {
  parts.limits.perSource.take(sourceKey(req.socket.remoteAddress));
  if (!parts.runs) throw new CodeServiceError('BadRequest', 'This code service serves no run codes.');
  attempt.grant = await parts.runs.authorize(await authenticate(parts, req, attempt), run);
  if (run.recovery) {
    attempt.handedOut = await parts.runs.recoveryCode(attempt.grant, run.recovery.index);
    return { recovery: attempt.handedOut };
  }
  if (run.slot === undefined) return { slots: await parts.runs.slots(attempt.grant) };
  return { issued: await parts.runs.issue(attempt.grant, run.slot) };
}

/** The same limits and TokenReview as a code request; its own SubjectAccessReview; then the claim, before the answer. */
async function serveRecovery(
  parts: CodeServiceParts,
  req: IncomingMessage,
  attempt: Attempt,
  request: RecoveryCodeRequest,
): Promise<Answer> {
  parts.limits.perSource.take(sourceKey(req.socket.remoteAddress));
  if (!parts.recovery) throw new CodeServiceError('BadRequest', 'This code service hands out no recovery codes.');
  const caller = await authenticate(parts, req, attempt);
  await parts.review.authorize(caller, request.namespace, request.name, RECOVERY_CODE_ACCESS);
  attempt.handedOut = await parts.recovery.handOut(caller, request.namespace, request.name);
  return { recovery: attempt.handedOut };
}

/** TokenReview (itself limited globally), then the per-caller limit; every path's caller comes from here. */
async function authenticate(parts: CodeServiceParts, req: IncomingMessage, attempt: Attempt): Promise<Caller> {
  attempt.caller = await parts.review.authenticate(bearerToken(req));
  parts.limits.perCaller.take(attempt.caller.username);
  return attempt.caller;
}

function record(
  parts: CodeServiceParts,
  req: IncomingMessage,
  attempt: Attempt,
  error: unknown,
  started: number,
): void {
  const reason = isCodeServiceError(error) ? error.reason : 'InternalError';
  const { caller, run } = attempt;
  const success = run && !run.slot && !run.recovery ? ('listed' as const) : ('issued' as const);
  parts.outcomes.record(
    {
      user: caller ? caller.username : '(unauthenticated)',
      groups: caller?.groups,
      ...auditTarget(attempt),
      ...(error === undefined
        ? { result: success }
        : { result: resultOf(isCodeServiceError(error) ? error.reason : undefined), reason }),
      source: req.socket.remoteAddress ?? 'unknown',
    },
    performance.now() - started,
  );
}

/** Which account (and, for a run, which Job and slot; for a recovery code, its position) the audit line names. */
function auditTarget({ request, run, grant, recovery, handedOut }: Attempt) {
  const index = handedOut ? { index: handedOut.index } : {};
  if (recovery) return { ...recovery, purpose: 'recovery' as const, ...index };
  if (!run) return request ?? { namespace: '', name: '', purpose: 'display' as const };
  return {
    namespace: run.namespace,
    name: grant?.accountName ?? '',
    // A run's recovery code counts as one, with the Job that got it.
    purpose: run.recovery ? ('recovery' as const) : ('run' as const),
    job: run.job,
    ...(run.slot ? { slot: run.slot } : {}),
    ...index,
  };
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

/** A JSON answer that no proxy or browser keeps (codes are in it). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

/** Serves the code endpoint over HTTPS; resolves once listening. */
export async function listenCodeService(
  parts: CodeServiceParts,
  tls: TlsFiles,
  port: number,
  host = '0.0.0.0',
): Promise<{ server: Server; port: number }> {
  const server = createServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, codeRequestHandler(parts));
  return listenForCodes(server, port, host);
}

/** Listens with the timeout a login code needs; resolves once listening, with the port taken. */
export async function listenForCodes(
  server: Server,
  port: number,
  host: string,
): Promise<{ server: Server; port: number }> {
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
