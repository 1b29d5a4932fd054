import { Secret } from 'otpauth';
import { SecretValue } from '../secrets/secret-value.ts';
import { TOTP_DIGITS, type TotpAlgorithm, type TotpDigits, type TotpSeed } from './totp-seed.ts';

/**
 * Forgiving readers for a seed written as text: an `otpauth://` URI (from a QR code, a link or a
 * Secret) and a bare "setup key". Pages differ in padding, case, grouping and label encoding;
 * anything that cannot produce correct codes (HOTP, unknown algorithm, bad base32) fails with
 * SeedFormatError, whose `problem` each caller frames for its reader (a connector's UnsupportedSeed,
 * the controller's AdoptionSourceInvalid). Error messages never contain the secret or any part of it.
 */

/** A seed that cannot produce correct codes; `problem` names what is wrong, never the secret. */
export class SeedFormatError extends Error {
  readonly problem: string;

  constructor(problem: string) {
    super(`The seed is not usable: ${problem}`);
    this.name = 'SeedFormatError';
    this.problem = problem;
  }
}

function unsupportedSeed(problem: string): SeedFormatError {
  return new SeedFormatError(problem);
}

const SCHEME = /^otpauth:\/\//i;
const BASE32 = /^[A-Z2-7]+$/;
/** 80 bits: shorter keys are almost certainly a truncated read of the page. */
const MIN_SECRET_CHARS = 16;
const MAX_PERIOD_SECONDS = 300;

export interface TextKeyDefaults {
  algorithm?: TotpAlgorithm;
  digits?: TotpDigits;
  period?: number;
  issuer?: string;
  label?: string;
}

export function isOtpauthUri(text: string): boolean {
  return SCHEME.test(text.trim());
}

export function parseOtpauthUri(uri: SecretValue<string> | string): TotpSeed {
  const text = (typeof uri === 'string' ? uri : uri.reveal()).trim();
  if (!SCHEME.test(text)) throw unsupportedSeed('it is not an otpauth:// URI');
  const rest = text.replace(SCHEME, '');
  const [typeAndLabel = '', query = ''] = splitOnce(rest, '?');
  const [type = '', rawLabel = ''] = splitOnce(typeAndLabel, '/');
  checkType(type.toLowerCase());
  const params = parseQuery(query);
  const secret = params.get('secret');
  if (secret === undefined || secret.trim() === '') throw unsupportedSeed('the otpauth URI has no secret parameter');
  const { issuerPrefix, account } = splitLabel(decodeComponent(rawLabel));
  return buildSeed(secret, {
    algorithm: parseAlgorithm(params.get('algorithm')),
    digits: parseDigits(params.get('digits')),
    period: parsePeriod(params.get('period')),
    issuer: nonEmpty(params.get('issuer')) ?? issuerPrefix,
    label: account,
  });
}

/** A setup key as shown in text ("jbsw y3dp ehpk 3pxp"), or an otpauth URI pasted as text. */
export function parseTextKey(key: SecretValue<string> | string, defaults: TextKeyDefaults = {}): TotpSeed {
  const text = typeof key === 'string' ? key : key.reveal();
  if (isOtpauthUri(text)) return parseOtpauthUri(text);
  return buildSeed(text, defaults);
}

/**
 * Parameters a setup page prints beside a bare key ("SHA-256", "8", "60"), validated like the
 * URI's; absent or empty values take the TOTP defaults.
 */
export function totpParametersFromText(shown: { algorithm?: string; digits?: string; period?: string }): {
  algorithm: TotpAlgorithm;
  digits: TotpDigits;
  period: number;
} {
  return {
    algorithm: parseAlgorithm(shown.algorithm),
    digits: parseDigits(shown.digits),
    period: parsePeriod(shown.period),
  };
}

/**
 * The parameters a setup page states in prose or labelled lines, e.g. "Algorithm: SHA-256",
 * "8 digits", "Interval: 60" or "a new code every 60 seconds"; what the text does not state takes
 * the TOTP defaults. Only the stated values are returned, so a connector can merge them with its
 * own defaults; a stated value that is not usable is UnsupportedSeed, as in an otpauth URI.
 */
export function totpParametersInText(
  text: string,
): Partial<{ algorithm: TotpAlgorithm; digits: TotpDigits; period: number }> {
  // A labelled value first, so that "Algorithm: MD5" is refused rather than read as the default.
  const algorithm = (/\balgorithm\s*[:=]?\s*(?:HMAC[-_ ]?)?([A-Za-z][\w-]*)/i.exec(text) ??
    /\b(?:HMAC[-_ ]?)?(SHA[-_ ]?(?:1|256|512))\b/i.exec(text))?.[1];
  const digits = (/\b(?:digits|length)\s*[:=]?\s*(\d+)\b/i.exec(text) ?? /\b(\d+)[- ]digits?\b/i.exec(text))?.[1];
  const period = (/\b(?:period|interval|time ?step)\s*[:=]?\s*(\d+)\b/i.exec(text) ??
    /\bevery\s+(\d+)\s*(?:s|sec|secs|seconds)\b/i.exec(text))?.[1];
  const shown = totpParametersFromText({ algorithm, digits, period });
  return {
    ...(algorithm !== undefined ? { algorithm: shown.algorithm } : {}),
    ...(digits !== undefined ? { digits: shown.digits } : {}),
    ...(period !== undefined ? { period: shown.period } : {}),
  };
}

/** Canonical base32: upper case, no spaces, hyphens or padding. */
export function canonicalBase32(raw: string): string {
  const compact = raw
    .replace(/[\s-]+/g, '')
    .replace(/=+$/, '')
    .toUpperCase();
  if (compact.length === 0) throw unsupportedSeed('the secret is empty');
  if (!BASE32.test(compact)) throw unsupportedSeed('the secret contains characters outside base32 (A-Z, 2-7)');
  if (compact.length < MIN_SECRET_CHARS) {
    throw unsupportedSeed(
      `the secret is shorter than ${MIN_SECRET_CHARS} base32 characters, probably read incompletely`,
    );
  }
  // Round-trip through otpauth so the stored form is exactly what code generation decodes.
  return Secret.fromBase32(compact).base32;
}

export function toOtpauthUri(seed: TotpSeed): SecretValue<string> {
  const issuer = seed.issuer ?? '';
  const account = seed.label ?? '';
  const label = issuer ? `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}` : encodeURIComponent(account);
  const query = new URLSearchParams({
    secret: seed.secret.reveal(),
    algorithm: seed.algorithm,
    digits: String(seed.digits),
    period: String(seed.period),
  });
  if (issuer) query.set('issuer', issuer);
  return new SecretValue(`otpauth://totp/${label}?${query.toString()}`);
}

function buildSeed(rawSecret: string, options: TextKeyDefaults): TotpSeed {
  const seed: TotpSeed = {
    secret: new SecretValue(canonicalBase32(rawSecret)),
    algorithm: options.algorithm ?? 'SHA1',
    digits: options.digits ?? 6,
    period: options.period ?? 30,
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.label ? { label: options.label } : {}),
  };
  return seed;
}

function checkType(type: string): void {
  if (type === 'totp') return;
  if (type === 'hotp') {
    throw unsupportedSeed('it is a counter-based (HOTP) seed; only time-based (TOTP) authenticators are supported');
  }
  throw unsupportedSeed('the otpauth URI type is neither totp nor hotp');
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + 1)];
}

function decodeComponent(text: string): string {
  const spaced = text.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    // A stray "%" in a label is the page's mistake; keep the text rather than lose the seed.
    return spaced;
  }
}

function parseQuery(query: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const [key = '', value = ''] = splitOnce(pair, '=');
    params.set(decodeComponent(key).trim().toLowerCase(), decodeComponent(value).trim());
  }
  return params;
}

function splitLabel(label: string): { issuerPrefix: string | undefined; account: string | undefined } {
  const [prefix, account] = label.includes(':') ? splitOnce(label, ':') : ['', label];
  return { issuerPrefix: nonEmpty(prefix), account: nonEmpty(account) };
}

function nonEmpty(text: string | undefined): string | undefined {
  const trimmed = text?.trim();
  return trimmed ? trimmed : undefined;
}

function parseAlgorithm(value: string | undefined): TotpAlgorithm {
  if (value === undefined || value === '') return 'SHA1';
  const normalized = value.toUpperCase().replace(/[-_\s]/g, '');
  if (normalized === 'SHA1' || normalized === 'SHA256' || normalized === 'SHA512') return normalized;
  throw unsupportedSeed(`algorithm "${printable(value)}" is not one of SHA1, SHA256, SHA512`);
}

function parseDigits(value: string | undefined): TotpDigits {
  if (value === undefined || value === '') return 6;
  const digits = Number(value);
  const allowed: readonly number[] = TOTP_DIGITS;
  if (allowed.includes(digits)) return digits as TotpDigits;
  throw unsupportedSeed(`digits "${printable(value)}" is not 6 or 8`);
}

function parsePeriod(value: string | undefined): number {
  if (value === undefined || value === '') return 30;
  const period = Number(value);
  if (Number.isInteger(period) && period > 0 && period <= MAX_PERIOD_SECONDS) return period;
  throw unsupportedSeed(
    `period "${printable(value)}" is not a whole number of seconds between 1 and ${MAX_PERIOD_SECONDS}`,
  );
}

/** Parameter values are not secret, but they come from a page: keep them short and plain. */
function printable(value: string): string {
  return value.replace(/[^\w.-]/g, '?').slice(0, 16);
}
