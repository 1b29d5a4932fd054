/** Settings of the code service; absent from OperatorConfig when --code-service-port is not given. */
export interface CodeServiceConfig {
  port: number;
  /** Listen address; default all interfaces (the Service routes to the pod). */
  host?: string;
  certPath: string;
  keyPath: string;
  ratePerMinute: number;
  burst: number;
  reviewCacheTtlMs: number;
  maxLoginWaitSeconds: number;
}

/** parseArgs options, spread into the operator's own. */
export const CODE_SERVICE_OPTIONS = {
  'code-service-port': { type: 'string' },
  'code-service-cert': { type: 'string' },
  'code-service-key': { type: 'string' },
  'code-service-rate': { type: 'string', default: '60' },
  'code-service-burst': { type: 'string', default: '10' },
  'code-service-review-cache-ttl': { type: 'string', default: '10' },
  'code-service-max-login-wait': { type: 'string', default: '35' },
} as const;

export const CODE_SERVICE_USAGE = `
  --code-service-port N           serve TOTP codes over HTTPS on this port (default: off; 0 picks a free port)
  --code-service-cert / --code-service-key PATH   PEM serving certificate and key, e.g. a mounted cert-manager Secret
                                  (or $CODE_SERVICE_CERT / $CODE_SERVICE_KEY)
  --code-service-rate N           code requests a minute per caller (default 60)
  --code-service-burst N          requests a caller may make at once (default 10)
  --code-service-review-cache-ttl SECONDS  reuse TokenReview/SubjectAccessReview answers this long (default 10; 0 = off)
  --code-service-max-login-wait SECONDS    longest a fresh login code waits for an unused window (default 35)`;

type CodeServiceValues = { [K in keyof typeof CODE_SERVICE_OPTIONS]?: string };

export function codeServiceConfig(values: CodeServiceValues, env: NodeJS.ProcessEnv = process.env): CodeServiceConfig | undefined {
  const port = values['code-service-port'];
  if (port === undefined || port === '') return undefined;
  const certPath = values['code-service-cert'] ?? env.CODE_SERVICE_CERT;
  const keyPath = values['code-service-key'] ?? env.CODE_SERVICE_KEY;
  if (!certPath || !keyPath) {
    throw new Error('--code-service-port needs --code-service-cert and --code-service-key (PEM files, e.g. from a cert-manager Certificate)');
  }
  return {
    port: wholeNumber('code-service-port', port, 0),
    certPath,
    keyPath,
    ratePerMinute: wholeNumber('code-service-rate', values['code-service-rate'] ?? '60', 1),
    burst: wholeNumber('code-service-burst', values['code-service-burst'] ?? '10', 1),
    reviewCacheTtlMs: wholeNumber('code-service-review-cache-ttl', values['code-service-review-cache-ttl'] ?? '10', 0) * 1000,
    maxLoginWaitSeconds: wholeNumber('code-service-max-login-wait', values['code-service-max-login-wait'] ?? '35', 1),
  };
}

function wholeNumber(flag: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${flag} must be a whole number ≥ ${min}, got "${raw}"`);
  return n;
}
