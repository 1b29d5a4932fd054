import { TOTP_ALGORITHMS, TOTP_DIGITS, type TotpAlgorithm, type TotpDigits } from '../../core/totp/totp-seed.ts';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import type { RecoveryCodes, TotpSeedMaterial } from './provider.ts';
import { StoreError } from './store-error.ts';

/** The non-secret half of a seed: what a store may keep in labels or annotations. */
export interface SeedParameters {
  algorithm: TotpAlgorithm;
  digits: TotpDigits;
  period: number;
  issuer?: string;
  label?: string;
}

const BASE32 = /^[A-Z2-7]+$/;
const MAX_PERIOD_SECONDS = 3600;
const MAX_RECOVERY_CODES = 100;
const MAX_RECOVERY_CODE_LENGTH = 256;

/** Copies only the non-secret fields, so a seed passed in never carries its secret along. */
export function seedParameters(seed: Readonly<SeedParameters>): SeedParameters {
  const parameters: SeedParameters = { algorithm: seed.algorithm, digits: seed.digits, period: seed.period };
  if (seed.issuer !== undefined) parameters.issuer = seed.issuer;
  if (seed.label !== undefined) parameters.label = seed.label;
  return parameters;
}

/** Refuses material a store could not give back as a working seed. The message never quotes it. */
export function checkSeedMaterial(seed: TotpSeedMaterial): void {
  const problem = seedProblem(seed.secret.reveal(), seed);
  if (problem) throw new StoreError('InvalidMaterial', `The TOTP seed was not stored: ${problem}.`);
}

function seedProblem(secret: unknown, parameters: Partial<SeedParameters>): string | undefined {
  if (typeof secret !== 'string' || !BASE32.test(secret)) {
    return 'its secret is not canonical base32 (upper case A-Z and 2-7, no padding)';
  }
  return parametersProblem(parameters);
}

function parametersProblem(parameters: Partial<SeedParameters>): string | undefined {
  if (!TOTP_ALGORITHMS.includes(parameters.algorithm as TotpAlgorithm))
    return 'algorithm must be SHA1, SHA256 or SHA512';
  if (!TOTP_DIGITS.includes(parameters.digits as TotpDigits)) return 'digits must be 6 or 8';
  const period = parameters.period;
  if (typeof period !== 'number' || !Number.isInteger(period) || period < 1 || period > MAX_PERIOD_SECONDS) {
    return `period must be a whole number of seconds from 1 to ${MAX_PERIOD_SECONDS}`;
  }
  for (const field of ['issuer', 'label'] as const) {
    if (parameters[field] !== undefined && typeof parameters[field] !== 'string') return `${field} must be text`;
  }
  return undefined;
}

export function checkRecoveryCodes(codes: RecoveryCodes): void {
  const problem = recoveryCodesProblem(codes.reveal());
  if (problem) throw new StoreError('InvalidMaterial', `The recovery codes were not stored: ${problem}.`);
}

function recoveryCodesProblem(codes: unknown): string | undefined {
  if (!Array.isArray(codes) || codes.length === 0) return 'expected a non-empty list';
  if (codes.length > MAX_RECOVERY_CODES) return `more than ${MAX_RECOVERY_CODES} codes`;
  const valid = codes.every(
    (code) =>
      typeof code === 'string' && code.length > 0 && code.length <= MAX_RECOVERY_CODE_LENGTH && !/[\r\n]/.test(code),
  );
  return valid ? undefined : `each code must be one line of 1 to ${MAX_RECOVERY_CODE_LENGTH} characters`;
}

/** Reads seed parameters kept beside the secret (annotation JSON); `where` names the object for the message. */
export function parseSeedParameters(json: unknown, where: string): SeedParameters {
  const value = parseJsonObject(json, where);
  const problem = parametersProblem(value);
  if (problem) throw corrupt(where, problem);
  return seedParameters(value as unknown as SeedParameters);
}

/** A whole seed as one self-contained document (a GCP secret version's payload). */
export function encodeSeed(seed: TotpSeedMaterial): Buffer {
  return Buffer.from(JSON.stringify({ secret: seed.secret.reveal(), ...seedParameters(seed) }), 'utf8');
}

export function decodeSeed(bytes: Uint8Array, where: string): TotpSeedMaterial {
  const value = parseJsonObject(Buffer.from(bytes).toString('utf8'), where);
  const problem = seedProblem(value.secret, value);
  if (problem) throw corrupt(where, problem);
  return seedFrom(new SecretValue(value.secret as string), value as unknown as SeedParameters);
}

export function seedFrom(secret: SecretValue<string>, parameters: SeedParameters): TotpSeedMaterial {
  return { secret, ...seedParameters(parameters) };
}

export function encodeRecoveryCodes(codes: RecoveryCodes): Buffer {
  return Buffer.from(codes.reveal().join('\n'), 'utf8');
}

export function decodeRecoveryCodes(bytes: Uint8Array, where: string): RecoveryCodes {
  const codes = Buffer.from(bytes).toString('utf8').split('\n');
  const problem = recoveryCodesProblem(codes);
  if (problem) throw corrupt(where, problem);
  return new SecretValue(codes);
}

export function sameSeed(a: TotpSeedMaterial, b: TotpSeedMaterial): boolean {
  return (
    a.secret.reveal() === b.secret.reveal() && JSON.stringify(seedParameters(a)) === JSON.stringify(seedParameters(b))
  );
}

function parseJsonObject(json: unknown, where: string): Record<string, unknown> {
  let value: unknown = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch {
      throw corrupt(where, 'it is not JSON');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw corrupt(where, 'it is not a JSON object');
  return value as Record<string, unknown>;
}

function corrupt(where: string, problem: string): StoreError {
  return new StoreError(
    'CorruptMaterial',
    `${where} cannot be read back (${problem}); restore it from a backup or re-enrol the account.`,
  );
}
