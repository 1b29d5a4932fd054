/**
 * Why a connector or the runner stopped. Each reason is one CamelCase word that becomes the
 * condition reason on the ManagedAccountMfa resource.
 */
export const CONNECTOR_ERROR_REASONS = [
  'InvalidCredentials',
  'MfaAlreadyEnabled',
  'OtherMfaMethodEnabled',
  'ChallengeRequired',
  'StepUpRequired',
  'RateLimited',
  'ConnectorOutdated',
  'EnrollmentRejected',
  'Timeout',
  'LoginHostNotAllowed',
  'SinkUnavailable',
  'UnsupportedSeed',
  'TLSUntrusted',
  'AppUnreachable',
] as const;
export type ConnectorErrorReason = (typeof CONNECTOR_ERROR_REASONS)[number];

/** Transient reasons are retried with exponential backoff; the rest wait for a human. */
const RETRYABLE_BY_DEFAULT: ReadonlySet<ConnectorErrorReason> = new Set([
  'RateLimited',
  'Timeout',
  'SinkUnavailable',
  'EnrollmentRejected',
  'AppUnreachable',
]);

export interface ConnectorErrorOptions {
  retryable?: boolean;
  /** RateLimited: how long the app asked us to wait, when it said so. */
  retryAfterSeconds?: number;
  /** ConnectorOutdated: the element the connector looked for and did not find. */
  expectedElement?: string;
  cause?: unknown;
}

/**
 * A failure with a reason and a message that tells the user what to do. Messages never contain
 * secrets: build them from reasons, element names and URLs without query strings.
 */
export class ConnectorError extends Error {
  readonly reason: ConnectorErrorReason;
  readonly retryable: boolean;
  readonly retryAfterSeconds: number | undefined;
  readonly expectedElement: string | undefined;

  constructor(reason: ConnectorErrorReason, message: string, options: ConnectorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ConnectorError';
    this.reason = reason;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(reason);
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.expectedElement = options.expectedElement;
  }
}

export function isConnectorError(e: unknown): e is ConnectorError {
  return e instanceof ConnectorError;
}

export function invalidCredentials(app: string): ConnectorError {
  return new ConnectorError(
    'InvalidCredentials',
    `${app} rejected the username or password; update the credentials Secret and the run will retry.`,
  );
}

export function mfaAlreadyEnabled(app: string): ConnectorError {
  return new ConnectorError(
    'MfaAlreadyEnabled',
    `${app} already has an authenticator app enrolled and no stored seed verifies against it; ` +
      'disable it in the app (or import the existing seed into the store) and re-run.',
  );
}

export function otherMfaMethodEnabled(app: string, methods: readonly string[]): ConnectorError {
  return new ConnectorError(
    'OtherMfaMethodEnabled',
    `${app} already uses another MFA method (${methods.join(', ')}); remove it or manage the account by hand.`,
  );
}

export function challengeRequired(app: string, challenge: string): ConnectorError {
  return new ConnectorError(
    'ChallengeRequired',
    `${app} asked for ${challenge} that the operator cannot answer; complete one login by hand, then re-run.`,
  );
}

export function stepUpRequired(app: string, what: string): ConnectorError {
  return new ConnectorError(
    'StepUpRequired',
    `${app} asked to re-authenticate (${what}) and did not accept the stored credentials; ` +
      'check the credentials Secret, or complete the step by hand.',
  );
}

export function rateLimited(app: string, retryAfterSeconds?: number): ConnectorError {
  const wait = retryAfterSeconds === undefined ? 'a while' : `${retryAfterSeconds}s`;
  return new ConnectorError('RateLimited', `${app} is rate limiting logins; the run will retry after ${wait}.`, {
    retryAfterSeconds,
  });
}

export function connectorOutdated(app: string, expectedElement: string, cause?: unknown): ConnectorError {
  return new ConnectorError(
    'ConnectorOutdated',
    `The ${app} page no longer matches the connector (expected ${expectedElement}); ` +
      'update the connector to the current page and re-run.',
    { expectedElement, cause },
  );
}

export function enrollmentRejected(app: string, detail: string): ConnectorError {
  return new ConnectorError(
    'EnrollmentRejected',
    `${app} did not accept the authenticator enrollment (${detail}); MFA stays off and the run will retry.`,
  );
}

export function timedOut(app: string, step: string, cause?: unknown): ConnectorError {
  return new ConnectorError('Timeout', `${app} did not respond in time during ${step}; the run will retry.`, { cause });
}

export function loginHostNotAllowed(connectorId: string, host: string, allowed: readonly string[]): ConnectorError {
  return new ConnectorError(
    'LoginHostNotAllowed',
    `Login host ${host} is not allowed for connector ${connectorId} (allowed: ${allowed.join(', ')}); ` +
      'fix spec.account.loginUrl.',
  );
}

/**
 * The page was sent off the allowed hosts (a redirect, a script) or a secret was about to be typed
 * on another host; nothing more is typed or sent there. `why` is a refusal reason from destination.ts.
 */
export function pageLeftAllowedHosts(host: string, why: string, doing: string): ConnectorError {
  return new ConnectorError(
    'LoginHostNotAllowed',
    `The page went to ${host} (${why}) while ${doing}; that host is not allowed for this connector, ` +
      'so nothing was typed or sent there. If the app really moved, add the host to the allowed login hosts; ' +
      'otherwise check spec.account.loginUrl.',
  );
}

/** `consequence` says what state the account was left in, e.g. "enrollment was not confirmed, MFA stays off". */
export function sinkUnavailable(what: string, consequence: string, cause?: unknown): ConnectorError {
  return new ConnectorError(
    'SinkUnavailable',
    `Could not store ${what}; ${consequence}. Check the result store; the run will retry.`,
    { cause },
  );
}

/** The page shows a seed the operator cannot use (HOTP, an unknown algorithm, a malformed key). */
export function unsupportedSeed(problem: string): ConnectorError {
  return new ConnectorError(
    'UnsupportedSeed',
    `The enrollment secret on the page is not usable: ${problem}. ` +
      'If the app changed its enrollment page, update the connector; otherwise the app is not supported.',
  );
}

/**
 * The browser refused the app's TLS certificate (`error` is Chromium's, e.g. net::ERR_CERT_AUTHORITY_INVALID).
 * Nothing was sent to the app. Not retried: a retry sees the same certificate until someone changes it or the trust.
 */
export function tlsUntrusted(host: string, error: string, cause?: unknown): ConnectorError {
  return new ConnectorError(
    'TLSUntrusted',
    `The browser does not trust the TLS certificate of ${host} (${error}), so nothing was sent to it. ` +
      "If the app uses an internal certificate authority, put that CA's PEM certificate in a ConfigMap and name it in " +
      "spec.account.caBundleRef; otherwise fix the app's certificate.",
    { cause },
  );
}

/** The app's page could not be loaded at all (connection refused, reset or timed out): nothing reached the app. */
export function appUnreachable(host: string, error: string, cause?: unknown): ConnectorError {
  return new ConnectorError(
    'AppUnreachable',
    `Could not reach ${host} (${error}), so nothing was sent to it. Check spec.account.loginUrl and that the app is up ` +
      "and reachable from the run's pod; the run will retry.",
    { cause },
  );
}
