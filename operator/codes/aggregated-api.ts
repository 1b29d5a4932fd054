import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Logger } from '../../core/logging/logger.ts';
import { MANAGED_ACCOUNT_MFA } from '../api/v1alpha1/resources.ts';
import type { AccountCodes } from './account-codes.ts';
import { AGGREGATED_GROUP, AGGREGATED_GROUP_VERSION, AGGREGATED_VERSION } from './aggregated-group.ts';
import type { Access, Caller, CallerReview } from './caller-review.ts';
import { CodeServiceError, isCodeServiceError } from './code-errors.ts';
import type { IssuedCode } from './code-issuer.ts';
import { resultOf } from './code-metrics.ts';
import type { AuditPurpose, CodeOutcomes } from './code-outcomes.ts';
import { accountOf, purposeOf } from './code-request.ts';
import { listenForCodes, sendJson, type TlsFiles } from './code-service.ts';
import { frontProxyCaller, verifiedProxy, type FrontProxyTrust } from './front-proxy.ts';
import type { RateLimiter } from './rate-limiter.ts';
import type { HandedOutCode, RecoveryCodes } from './recovery-codes.ts';

/**
 * What kube-apiserver itself authorised before proxying (`create` on the subresource in the aggregated group), asked
 * again: the port can be reached without kube-apiserver, and a SubjectAccessReview is what every aggregated API
 * server (metrics-server's delegated authorisation) relies on.
 */
export const AGGREGATED_CODE_ACCESS: Access = {
  group: AGGREGATED_GROUP,
  subresource: 'code',
  verb: 'create',
  what: 'codes',
};
export const AGGREGATED_RECOVERY_CODE_ACCESS: Access = {
  group: AGGREGATED_GROUP,
  subresource: 'recovery-code',
  verb: 'create',
  what: 'recovery codes',
};

export interface AggregatedApiParts {
  /** Read on every connection, so a reloaded requestheader CA or allowed-name list applies at once. */
  trust: () => FrontProxyTrust;
  review: Pick<CallerReview, 'authorize'>;
  /** Per user, shared with the direct endpoint: one budget whichever way a user asks. */
  perCaller: RateLimiter;
  codes: Pick<AccountCodes, 'issue'>;
  recovery?: Pick<RecoveryCodes, 'handOut'>;
  outcomes: CodeOutcomes;
  log: Logger;
}

const ACCOUNT_ROUTE = new RegExp(
  `^/apis/${AGGREGATED_GROUP.replaceAll('.', '\\.')}/${AGGREGATED_VERSION}/namespaces/([^/]+)/managedaccountmfas/([^/]+)/(code|recovery-code)$`,
);
const MAX_BODY_BYTES = 4096;

interface Attempt {
  caller?: Caller;
  namespace?: string;
  name?: string;
  purpose?: AuditPurpose;
  index?: number;
}

type Answer = { discovery: unknown } | { issued: IssuedCode } | { recovery: HandedOutCode };

/** Serves discovery and the two subresources to kube-apiserver's front proxy; audits each code request. */
export function aggregatedApiHandler(parts: AggregatedApiParts): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const started = performance.now();
    const attempt: Attempt = {};
    serve(parts, req, attempt).then(
      (answer) => {
        if ('discovery' in answer) return sendJson(res, 200, answer.discovery);
        record(parts, req, attempt, undefined, started);
        sendJson(res, 201, answerObject(attempt, answer));
      },
      (e: unknown) => {
        if (attempt.purpose) record(parts, req, attempt, e, started);
        // A body left unread (over the limit) is not drained for the next request: the connection ends here.
        if (!req.complete) res.setHeader('connection', 'close');
        sendStatus(res, e, parts.log);
      },
    );
  };
}

async function serve(parts: AggregatedApiParts, req: IncomingMessage, attempt: Attempt): Promise<Answer> {
  const url = requestUrl(req.url);
  const match = ACCOUNT_ROUTE.exec(url.pathname);
  if (!match) {
    // Discovery holds no secret, but is answered to the front proxy only: nothing on this port serves anyone else.
    verifiedProxy(req, parts.trust());
    return { discovery: discovery(req, url.pathname) };
  }
  const subresource = match[3] as 'code' | 'recovery-code';
  attempt.purpose = subresource === 'code' ? 'display' : 'recovery';
  Object.assign(attempt, accountOf(match));
  const { namespace, name } = attempt as Required<Pick<Attempt, 'namespace' | 'name'>>;
  if (req.method !== 'POST')
    throw new CodeServiceError(
      'MethodNotAllowed',
      `Only create (POST) is served on managedaccountmfas/${subresource}.`,
    );
  if (subresource === 'code') attempt.purpose = purposeOf(url.searchParams);
  attempt.caller = frontProxyCaller(req, parts.trust());
  await readEmptyOrObject(req);
  // No per-source limit: every request comes from kube-apiserver, whose own limits (priority and fairness) apply.
  parts.perCaller.take(attempt.caller.username);
  if (subresource === 'code') {
    await parts.review.authorize(attempt.caller, namespace, name, AGGREGATED_CODE_ACCESS);
    return { issued: await parts.codes.issue({ namespace, name }, attempt.purpose === 'login' ? 'login' : 'display') };
  }
  if (!parts.recovery) throw new CodeServiceError('BadRequest', 'This code service hands out no recovery codes.');
  await parts.review.authorize(attempt.caller, namespace, name, AGGREGATED_RECOVERY_CODE_ACCESS);
  const handedOut = await parts.recovery.handOut(attempt.caller, namespace, name);
  attempt.index = handedOut.index;
  return { recovery: handedOut };
}

/** The body is optional (`kubectl create --raw ... -f -` sends one); if sent it must be a small JSON object. */
async function readEmptyOrObject(req: IncomingMessage): Promise<void> {
  const text = (await readSmallBody(req)).trim();
  if (text === '') return;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new CodeServiceError('BadRequest', 'The request body is not JSON; send {} or nothing.');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new CodeServiceError('BadRequest', 'The request body must be a JSON object such as {}, or nothing.');
}

function answerObject(attempt: Attempt, answer: Answer): unknown {
  const metadata = { name: attempt.name, namespace: attempt.namespace };
  if ('recovery' in answer) {
    const { code, index, remaining } = answer.recovery;
    return {
      apiVersion: AGGREGATED_GROUP_VERSION,
      kind: 'RecoveryCode',
      metadata,
      code: code.reveal(),
      index,
      remaining,
    };
  }
  const { issued } = answer as { issued: IssuedCode };
  return {
    apiVersion: AGGREGATED_GROUP_VERSION,
    kind: 'TotpCode',
    metadata,
    code: issued.code.reveal(),
    secondsRemaining: issued.secondsRemaining,
    period: issued.period,
    digits: issued.digits,
    algorithm: issued.algorithm,
  };
}

/** `/apis`, `/apis/<group>`, `/apis/<group>/<version>`: enough for kube-apiserver's availability check and kubectl. */
function discovery(req: IncomingMessage, path: string): unknown {
  if (req.method !== 'GET') throw new CodeServiceError('MethodNotAllowed', 'Discovery is served for GET only.');
  const version = { groupVersion: AGGREGATED_GROUP_VERSION, version: AGGREGATED_VERSION };
  const group = { name: AGGREGATED_GROUP, versions: [version], preferredVersion: version };
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '/apis') return { kind: 'APIGroupList', apiVersion: 'v1', groups: [group] };
  if (trimmed === `/apis/${AGGREGATED_GROUP}`) return { kind: 'APIGroup', apiVersion: 'v1', ...group };
  if (trimmed === `/apis/${AGGREGATED_GROUP_VERSION}`) {
    const subresource = (name: string, kind: string) => ({
      name: `${MANAGED_ACCOUNT_MFA.plural}/${name}`,
      singularName: '',
      namespaced: true,
      kind,
      verbs: ['create'],
    });
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: AGGREGATED_GROUP_VERSION,
      resources: [subresource('code', 'TotpCode'), subresource('recovery-code', 'RecoveryCode')],
    };
  }
  throw new NotServed(path);
}

class NotServed extends Error {
  constructor(path: string) {
    super(
      `${path} is not served; POST /apis/${AGGREGATED_GROUP_VERSION}/namespaces/NAMESPACE/managedaccountmfas/NAME/code or .../recovery-code.`,
    );
  }
}

function requestUrl(target: string | undefined): URL {
  try {
    return new URL(target ?? '/', 'https://aggregated-api.invalid');
  } catch {
    throw new CodeServiceError('BadRequest', 'The request path is not a valid URL path.');
  }
}

function record(parts: AggregatedApiParts, req: IncomingMessage, attempt: Attempt, error: unknown, started: number) {
  const reason = isCodeServiceError(error) ? error.reason : 'InternalError';
  parts.outcomes.record(
    {
      user: attempt.caller?.username ?? '(unauthenticated)',
      groups: attempt.caller?.groups,
      namespace: attempt.namespace ?? '',
      name: attempt.name ?? '',
      purpose: attempt.purpose ?? 'display',
      ...(attempt.index !== undefined ? { index: attempt.index } : {}),
      ...(error === undefined
        ? { result: 'issued' as const }
        : { result: resultOf(isCodeServiceError(error) ? error.reason : undefined), reason }),
      // The end user's address is in kube-apiserver's audit log; this side sees the proxy.
      source: `kube-apiserver ${req.socket.remoteAddress ?? 'unknown'}`,
    },
    performance.now() - started,
  );
}

/**
 * The body, up to MAX_BODY_BYTES. A longer one is refused without reading the rest or destroying the request, so the
 * refusal can still be answered (the connection is closed after it: see aggregatedApiHandler).
 */
function readSmallBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      req.off('data', onData);
      req.off('end', onEnd);
      req.pause();
      reject(
        new CodeServiceError('BadRequest', `The request body is over ${MAX_BODY_BYTES} bytes; send {} or nothing.`),
      );
    };
    const onEnd = () => resolve(Buffer.concat(chunks).toString('utf8'));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
  });
}

/** Kubernetes Status reasons for the service's own (which goes into details.causes). */
const STATUS_REASON: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  410: 'Gone',
  429: 'TooManyRequests',
  503: 'ServiceUnavailable',
};

function sendStatus(res: ServerResponse, e: unknown, log: Logger): void {
  if (e instanceof NotServed) return sendJson(res, 404, status(404, 'NotFound', e.message));
  if (!isCodeServiceError(e)) {
    log.error(
      { err: e instanceof Error ? { name: e.name } : undefined },
      'aggregated code request failed unexpectedly',
    );
    return sendJson(res, 500, status(500, 'InternalError', 'The code service failed; see the operator log.'));
  }
  const headers: Record<string, string> = {};
  if (e.retryAfterSeconds !== undefined) headers['retry-after'] = String(e.retryAfterSeconds);
  sendJson(
    res,
    e.status,
    status(e.status, e.reason, e.message, e.retryAfterSeconds, STATUS_REASON[e.status] ?? 'InternalError'),
    headers,
  );
}

function status(code: number, cause: string, message: string, retryAfterSeconds?: number, reason = cause) {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
    details: {
      group: AGGREGATED_GROUP,
      kind: MANAGED_ACCOUNT_MFA.plural,
      causes: [{ reason: cause, message }],
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    },
  };
}

/**
 * Serves the aggregated API over HTTPS, asking every client for a certificate (checked against the requestheader CA
 * per request, so a refusal is a Status rather than a dropped handshake); resolves once listening.
 */
export async function listenAggregatedApi(
  parts: AggregatedApiParts,
  tls: TlsFiles,
  port: number,
  host = '0.0.0.0',
): Promise<{ server: Server; port: number }> {
  const server = createServer(
    { ...secureContextOf(tls, parts.trust()), minVersion: 'TLSv1.2' },
    aggregatedApiHandler(parts),
  );
  return listenForCodes(server, port, host);
}

/** The serving pair and the requestheader CA client certificates are checked against. */
export function secureContextOf(tls: TlsFiles, trust: FrontProxyTrust) {
  return { cert: tls.cert, key: tls.key, ca: trust.clientCa, requestCert: true, rejectUnauthorized: false };
}
