import type { IncomingMessage } from 'node:http';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import { isSeedSlot, SEED_SLOTS, type SeedSlot } from '../stores/seed-slots.ts';
import { CodeServiceError } from './code-errors.ts';
import type { CodePurpose } from './code-issuer.ts';

export interface CodeRequest {
  readonly namespace: string;
  readonly name: string;
  readonly purpose: CodePurpose;
}

const ROUTE = /^\/v1\/namespaces\/([^/]+)\/managedaccountmfas\/([^/]+)\/code$/;
const RECOVERY_ROUTE = /^\/v1\/namespaces\/([^/]+)\/managedaccountmfas\/([^/]+)\/recovery-code$/;
const RUN_ROUTE = /^\/v1\/namespaces\/([^/]+)\/runs\/([^/]+)\/(code|slots|recovery-code)$/;

/**
 * A run asking for one code from a slot (`slot` set), for which slots hold a seed (neither set), or for one recovery
 * code (`recovery` set: the position its app names, if it names one).
 */
export interface RunCodeRequest {
  readonly namespace: string;
  readonly job: string;
  readonly slot?: SeedSlot;
  readonly recovery?: { readonly index?: number };
}
// RFC 1123 label (namespace) and subdomain (object name), as the API server enforces them.
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** The bearer token, kept as a SecretValue from the moment it is read. */
export function bearerToken(req: IncomingMessage): SecretValue<string> | undefined {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match ? new SecretValue(match[1]!) : undefined;
}

/** Parses `GET /v1/namespaces/{ns}/managedaccountmfas/{name}/code[?fresh=true|purpose=login]`. */
export function parseCodeRequest(req: IncomingMessage): CodeRequest {
  if (req.method !== 'GET') throw new CodeServiceError('MethodNotAllowed', 'Only GET is served.');
  const url = requestUrl(req.url);
  const match = ROUTE.exec(url.pathname);
  if (!match) {
    throw new CodeServiceError('BadRequest', 'Ask for GET /v1/namespaces/{namespace}/managedaccountmfas/{name}/code.');
  }
  return { ...accountOf(match), purpose: purposeOf(url.searchParams) };
}

/** An account's next unused recovery code. */
export interface RecoveryCodeRequest {
  readonly namespace: string;
  readonly name: string;
}

/**
 * Parses `POST /v1/namespaces/{ns}/managedaccountmfas/{name}/recovery-code`; undefined for any other path.
 * POST, not GET: each answer uses a code up, so no proxy or client may repeat or prefetch it.
 */
export function parseRecoveryCodeRequest(req: IncomingMessage): RecoveryCodeRequest | undefined {
  const match = RECOVERY_ROUTE.exec(requestUrl(req.url).pathname);
  if (!match) return undefined;
  if (req.method !== 'POST')
    throw new CodeServiceError('MethodNotAllowed', 'Only POST is served for recovery codes: each one is used up.');
  return accountOf(match);
}

/** The account an account route names, decoded and checked as Kubernetes names. */
export function accountOf(match: RegExpExecArray): { namespace: string; name: string } {
  const [namespace, name] = [pathSegment('namespace', match[1]!), pathSegment('name', match[2]!)];
  if (!NAMESPACE.test(namespace) || !NAME.test(name)) {
    throw new CodeServiceError('BadRequest', 'The namespace or name is not a valid Kubernetes name.');
  }
  return { namespace, name };
}

/**
 * Parses `GET /v1/namespaces/{ns}/runs/{job}/code?slot=pending|active`, `GET /v1/namespaces/{ns}/runs/{job}/slots` and
 * `POST /v1/namespaces/{ns}/runs/{job}/recovery-code[?index=N]`; undefined for any other path (an account request, or
 * a bad one that parseCodeRequest refuses).
 */
export function parseRunRequest(req: IncomingMessage): RunCodeRequest | undefined {
  const url = requestUrl(req.url);
  const match = RUN_ROUTE.exec(url.pathname);
  if (!match) return undefined;
  const recovery = match[3] === 'recovery-code';
  if (recovery && req.method !== 'POST')
    throw new CodeServiceError('MethodNotAllowed', 'Only POST is served for recovery codes: each one is used up.');
  if (!recovery && req.method !== 'GET') throw new CodeServiceError('MethodNotAllowed', 'Only GET is served.');
  const [namespace, job] = [pathSegment('namespace', match[1]!), pathSegment('name', match[2]!)];
  if (!NAMESPACE.test(namespace) || !NAMESPACE.test(job)) {
    throw new CodeServiceError('BadRequest', 'The namespace or run name is not a valid Kubernetes name.');
  }
  if (match[3] === 'slots') return { namespace, job };
  if (recovery) return { namespace, job, recovery: recoveryIndexOf(url.searchParams) };
  const slot = url.searchParams.get('slot');
  if (!isSeedSlot(slot))
    throw new CodeServiceError('BadRequest', `slot must be one of ${SEED_SLOTS.map((s) => `"${s}"`).join(', ')}.`);
  return { namespace, job, slot };
}

/** `index=N`: the position (from 0) the run's app asks for; none: the first unused. */
function recoveryIndexOf(query: URLSearchParams): { index?: number } {
  const index = query.get('index');
  if (index === null) return {};
  if (!/^\d{1,4}$/.test(index))
    throw new CodeServiceError('BadRequest', 'index must be the position of the recovery code, a whole number from 0.');
  return { index: Number(index) };
}

// A request target the URL parser or decodeURIComponent refuses is the caller's mistake (400), not
// a failure of the service: as a 500 it would count as `error` and could fire an alert.
function requestUrl(target: string | undefined): URL {
  try {
    return new URL(target ?? '/', 'https://code-service.invalid');
  } catch {
    throw new CodeServiceError('BadRequest', 'The request path is not a valid URL path.');
  }
}

function pathSegment(field: 'namespace' | 'name', raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new CodeServiceError('BadRequest', `The ${field} in the path has a malformed %-escape.`);
  }
}

/** `fresh=true` or `purpose=login` ask for a login code; anything else but `display`/`fresh=false` is refused. */
export function purposeOf(query: URLSearchParams): CodePurpose {
  const purpose = query.get('purpose');
  const fresh = query.get('fresh');
  if (purpose !== null && purpose !== 'login' && purpose !== 'display') {
    throw new CodeServiceError('BadRequest', 'purpose must be "login" or "display".');
  }
  if (fresh !== null && fresh !== 'true' && fresh !== 'false')
    throw new CodeServiceError('BadRequest', 'fresh must be true or false.');
  return purpose === 'login' || fresh === 'true' ? 'login' : 'display';
}
