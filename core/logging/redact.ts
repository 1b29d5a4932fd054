export const REDACTED = '[redacted]';

/**
 * Field names whose values are never logged, at any depth. Matched without case and without `-`,
 * `_` and `.`, so `Authorization`, `private_key`, `set-cookie` and `recoveryCodes` all match.
 */
export const REDACTED_FIELDS: readonly string[] = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'clientsecret',
  'seed',
  'pendingseed',
  'textkey',
  'code',
  'codes',
  'recoverycodes',
  'totp',
  'otp',
  'otpauthuri',
  'uri',
  'token',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'authorization',
  'proxyauthorization',
  'cookie',
  'cookies',
  'setcookie',
  'key',
  'privatekey',
  'apikey',
  'secretkey',
  'credentials',
  // A Kubernetes Secret's payload: the operator never logs a Secret's data, whatever holds it.
  'data',
  'stringdata',
];

/** Names ending like these are secret too: `sessionToken`, `adminPassword`, `gcpPrivateKey`. */
const REDACTED_SUFFIXES = ['token', 'password', 'secret', 'privatekey', 'apikey', 'cookie'];

const EXACT = new Set(REDACTED_FIELDS);
const MAX_DEPTH = 10;

export function isSecretFieldName(name: string): boolean {
  const normalized = name.toLowerCase().replace(/[-_.]/g, '');
  return EXACT.has(normalized) || REDACTED_SUFFIXES.some((suffix) => normalized.endsWith(suffix));
}

/**
 * A copy of a log object safe to print: secret-named fields redacted at any depth, Errors turned
 * into { type, message, stack, ...their fields } (redacted the same way), binary data dropped,
 * cycles and very deep nesting cut. Values with toJSON (SecretValue, Date, URL) are used as
 * JSON would use them.
 */
export function redactFields(value: unknown): unknown {
  return walk(value, 0, new WeakSet());
}

function walk(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'function' ? undefined : value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[binary, ${value.byteLength} bytes]`;
  seen.add(value);
  try {
    if (value instanceof Error) return walkObject(errorFields(value), depth, seen);
    const asJson = (value as { toJSON?: unknown }).toJSON;
    if (typeof asJson === 'function') return walk(asJson.call(value), depth, seen);
    if (Array.isArray(value)) return value.map((item) => walk(item, depth + 1, seen));
    return walkObject(value as Record<string, unknown>, depth, seen);
  } finally {
    seen.delete(value);
  }
}

function walkObject(object: Record<string, unknown>, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(object)) {
    copy[name] =
      isSecretFieldName(name) && field !== undefined && field !== null ? REDACTED : walk(field, depth + 1, seen);
  }
  return copy;
}

/** What pino's error serializer keeps, with the cause chain and the error's own fields. */
function errorFields(error: Error): Record<string, unknown> {
  const fields: Record<string, unknown> = { type: error.name, message: error.message, stack: error.stack };
  for (const [name, field] of Object.entries(error)) if (!(name in fields)) fields[name] = field;
  if (error.cause !== undefined) fields.cause = error.cause;
  return fields;
}

/** Secrets recognisable by their shape, removed from every log line whatever field or message holds them. */
const SECRET_SHAPES: readonly [RegExp, string][] = [
  [/(\bBearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, `$1${REDACTED}`],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, REDACTED],
  [/otpauth(?:-migration)?:\/\/[^\s"']+/gi, REDACTED],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, REDACTED],
  // Passwords in URLs: https://user:password@host
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@"']+:)[^\s/@"']+@/gi, `$1${REDACTED}@`],
];

export function redactSecretShapes(text: string): string {
  let result = text;
  for (const [shape, replacement] of SECRET_SHAPES) result = result.replace(shape, replacement);
  return result;
}
