import { DEFAULT_CODE_SERVICE_AUDIENCE } from './audience.ts';

/** Settings of the code service; absent from OperatorConfig when --code-service-port is not given. */
export interface CodeServiceConfig {
  port: number;
  /** Listen address; default all interfaces (the Service routes to the pod). */
  host?: string;
  certPath: string;
  keyPath: string;
  /** Per authenticated user. */
  ratePerMinute: number;
  burst: number;
  /** Per source address, before authentication. */
  sourceRatePerMinute: number;
  sourceBurst: number;
  /** TokenReviews sent, across all callers. */
  tokenReviewRatePerMinute: number;
  tokenReviewBurst: number;
  reviewCacheTtlMs: number;
  maxLoginWaitSeconds: number;
  /** The audience bearer tokens must be minted for. */
  audience: string;
  /** Where run pods reach the service (its Service DNS name); without it no run gets codes. */
  runUrl?: string;
  /** PEM file of the CA that run pods trust for `runUrl`; default: ca.crt beside the certificate, else the certificate. */
  runCaPath?: string;
  /** Serve the aggregated API (codes.mfa-operator.io, behind an APIService) on this port; unset, it is off. */
  aggregatedPort?: number;
}

/**
 * A revoked RoleBinding or a deleted ServiceAccount keeps working for up to the review cache TTL,
 * so it is capped at the 5 minutes kube-apiserver's own webhook authorizer caches an "allowed" for.
 */
export const MAX_REVIEW_CACHE_TTL_SECONDS = 300;

/** parseArgs options, spread into the operator's own. */
export const CODE_SERVICE_OPTIONS = {
  'code-service-port': { type: 'string' },
  'code-service-cert': { type: 'string' },
  'code-service-key': { type: 'string' },
  'code-service-rate': { type: 'string', default: '60' },
  'code-service-burst': { type: 'string', default: '10' },
  'code-service-source-rate': { type: 'string', default: '120' },
  'code-service-source-burst': { type: 'string', default: '20' },
  'code-service-token-review-rate': { type: 'string', default: '600' },
  'code-service-token-review-burst': { type: 'string', default: '50' },
  'code-service-review-cache-ttl': { type: 'string', default: '10' },
  'code-service-max-login-wait': { type: 'string', default: '35' },
  'code-service-audience': { type: 'string' },
  'code-service-run-url': { type: 'string' },
  'code-service-run-ca': { type: 'string' },
  'code-service-aggregated-port': { type: 'string' },
} as const;

export const CODE_SERVICE_USAGE = `
  --code-service-port N           serve TOTP codes over HTTPS on this port (default: off; 0 picks a free port)
  --code-service-cert / --code-service-key PATH   PEM serving certificate and key, e.g. a mounted cert-manager Secret
                                  (or $CODE_SERVICE_CERT / $CODE_SERVICE_KEY)
  --code-service-rate N           code requests a minute per caller (default 60)
  --code-service-burst N          requests a caller may make at once (default 10)
  --code-service-source-rate N    requests a minute per source address, checked before authenticating (default 120)
  --code-service-source-burst N   requests a source address may make at once (default 20)
  --code-service-token-review-rate N   TokenReviews a minute the service may send, all callers together (default 600)
  --code-service-token-review-burst N  TokenReviews it may send at once (default 50)
  --code-service-review-cache-ttl SECONDS  reuse TokenReview/SubjectAccessReview answers this long (default 10; 0 = off;
                                  at most 300): revoking access takes effect within this time
  --code-service-max-login-wait SECONDS    longest a fresh login code waits for an unused window (default 35)
  --code-service-audience AUDIENCE   accept only bearer tokens minted for this audience (default ${DEFAULT_CODE_SERVICE_AUDIENCE})
  --code-service-run-url URL      https URL run pods reach the service at (e.g. https://mfa-operator-codes.mfa-operator-system.svc);
                                  rotate, disable and re-runs of enable sign in with codes from it (required for them)
  --code-service-run-ca PATH      PEM CA bundle runs trust for that URL (default: ca.crt beside --code-service-cert, as cert-manager
                                  writes it, else that certificate itself)
  --code-service-aggregated-port N   also serve codes through kube-apiserver (APIService codes.mfa-operator.io/v1alpha1)
                                  on this port, to its front proxy only (default: off; 0 picks a free port)`;

type CodeServiceValues = { [K in keyof typeof CODE_SERVICE_OPTIONS]?: string };
type NumericFlag = {
  [K in keyof typeof CODE_SERVICE_OPTIONS]: (typeof CODE_SERVICE_OPTIONS)[K] extends { default: string } ? K : never;
}[keyof typeof CODE_SERVICE_OPTIONS];

export function codeServiceConfig(
  values: CodeServiceValues,
  env: NodeJS.ProcessEnv = process.env,
): CodeServiceConfig | undefined {
  const port = values['code-service-port'];
  if (port === undefined || port === '') return undefined;
  const certPath = values['code-service-cert'] ?? env.CODE_SERVICE_CERT;
  const keyPath = values['code-service-key'] ?? env.CODE_SERVICE_KEY;
  if (!certPath || !keyPath) {
    throw new Error(
      '--code-service-port needs --code-service-cert and --code-service-key (PEM files, e.g. from a cert-manager Certificate)',
    );
  }
  const setting = (flag: NumericFlag, min: number, max?: number) =>
    wholeNumber(flag, values[flag] ?? CODE_SERVICE_OPTIONS[flag].default, min, max);
  return {
    port: wholeNumber('code-service-port', port, 0),
    certPath,
    keyPath,
    ratePerMinute: setting('code-service-rate', 1),
    burst: setting('code-service-burst', 1),
    sourceRatePerMinute: setting('code-service-source-rate', 1),
    sourceBurst: setting('code-service-source-burst', 1),
    tokenReviewRatePerMinute: setting('code-service-token-review-rate', 1),
    tokenReviewBurst: setting('code-service-token-review-burst', 1),
    reviewCacheTtlMs: setting('code-service-review-cache-ttl', 0, MAX_REVIEW_CACHE_TTL_SECONDS) * 1000,
    maxLoginWaitSeconds: setting('code-service-max-login-wait', 1),
    audience: audienceOf(values['code-service-audience']),
    ...runUrlOf(values['code-service-run-url']),
    ...(values['code-service-run-ca'] ? { runCaPath: values['code-service-run-ca'] } : {}),
    ...aggregatedPortOf(values['code-service-aggregated-port']),
  };
}

function runUrlOf(raw: string | undefined): { runUrl?: string } {
  if (raw === undefined || raw === '') return {};
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`--code-service-run-url must be an https URL, got "${raw}"`);
  }
  if (url.protocol !== 'https:' || url.username || url.password || url.search || url.hash) {
    throw new Error(`--code-service-run-url must be an https URL without credentials, query or fragment, got "${raw}"`);
  }
  return { runUrl: url.origin + url.pathname.replace(/\/+$/, '') };
}

function aggregatedPortOf(raw: string | undefined): { aggregatedPort?: number } {
  if (raw === undefined || raw === '') return {};
  return { aggregatedPort: wholeNumber('code-service-aggregated-port', raw, 0, 65535) };
}

function audienceOf(raw: string | undefined): string {
  if (raw === undefined) return DEFAULT_CODE_SERVICE_AUDIENCE;
  if (!/^[^\s,]{1,253}$/.test(raw)) {
    throw new Error(
      `--code-service-audience must be one audience (1 to 253 characters, no spaces or commas), got "${raw}"`,
    );
  }
  return raw;
}

function wholeNumber(flag: string, raw: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new Error(`--${flag} must be a whole number ${range}, got "${raw}"`);
  }
  return n;
}
