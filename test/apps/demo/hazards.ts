/** The things real apps throw at an automation, switchable per account (see README.md). */

export const TOTP_ALGORITHMS = ['SHA1', 'SHA256', 'SHA512'] as const;
export type TotpAlgorithm = (typeof TOTP_ALGORITHMS)[number];

export const QR_FORMATS = ['img', 'svg', 'canvas'] as const;
export type QrFormat = (typeof QR_FORMATS)[number];

export interface TotpParameters {
  algorithm: TotpAlgorithm;
  digits: number;
  period: number;
}

/** A TOTP credential the account starts with; the seed is supplied by the test so it can make codes. */
export interface ExistingTotp extends Partial<TotpParameters> {
  seed: string;
  /** Recovery codes the account starts with (none when absent). */
  recoveryCodes?: string[];
}

export interface Hazards {
  mfaAlreadyOn: ExistingTotp | false;
  otherMfaMethod: boolean;
  stepUp: boolean;
  captcha: boolean;
  /** Seconds in Retry-After on every login attempt; 0 = off. */
  rateLimit: number;
  /** Milliseconds every response for the account waits first; 0 = off. */
  slowPages: number;
  qrOnly: boolean;
  lowercaseGroupedKey: boolean;
  keyWithPadding: boolean;
  qrFormat: QrFormat;
  requireCodesAcknowledged: boolean;
  totp: TotpParameters;
}

export const DEFAULT_TOTP: TotpParameters = { algorithm: 'SHA1', digits: 6, period: 30 };

export const NO_HAZARDS: Hazards = {
  mfaAlreadyOn: false,
  otherMfaMethod: false,
  stepUp: false,
  captcha: false,
  rateLimit: 0,
  slowPages: 0,
  qrOnly: false,
  lowercaseGroupedKey: false,
  keyWithPadding: false,
  qrFormat: 'img',
  requireCodesAcknowledged: false,
  totp: DEFAULT_TOTP,
};

/** What callers may pass: any subset; `null`/`false` switches a hazard back off. */
export type HazardSettings = { [K in keyof Hazards]?: Hazards[K] | null | false };

export class InvalidHazardError extends Error {
  readonly reason = 'InvalidHazard';
}

export function mergeHazards(base: Hazards, changes: HazardSettings = {}): Hazards {
  const merged: Hazards = { ...base };
  for (const [key, value] of Object.entries(changes)) {
    if (!(key in NO_HAZARDS)) throw new InvalidHazardError(`unknown hazard "${key}"; see test/apps/demo/README.md`);
    const name = key as keyof Hazards;
    Object.assign(merged, { [name]: value === null || value === false ? NO_HAZARDS[name] : value });
  }
  if (changes.totp) merged.totp = { ...DEFAULT_TOTP, ...changes.totp };
  return validateHazards(merged);
}

function validateTotp(totp: TotpParameters): void {
  if (!TOTP_ALGORITHMS.includes(totp.algorithm))
    throw new InvalidHazardError(`totp.algorithm must be one of ${TOTP_ALGORITHMS.join(', ')}`);
  if (totp.digits !== 6 && totp.digits !== 8) throw new InvalidHazardError('totp.digits must be 6 or 8');
  if (!Number.isInteger(totp.period) || totp.period < 1)
    throw new InvalidHazardError('totp.period must be a positive whole number of seconds');
}

function validateHazards(hazards: Hazards): Hazards {
  validateTotp(hazards.totp);
  if (!QR_FORMATS.includes(hazards.qrFormat))
    throw new InvalidHazardError(`qrFormat must be one of ${QR_FORMATS.join(', ')}`);
  for (const key of ['rateLimit', 'slowPages'] as const) {
    const raw: unknown = hazards[key];
    const value = raw === true ? 60 : Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new InvalidHazardError(`${key} must be a number ≥ 0`);
    hazards[key] = value;
  }
  if (hazards.mfaAlreadyOn && typeof hazards.mfaAlreadyOn.seed !== 'string') {
    throw new InvalidHazardError('mfaAlreadyOn needs { seed: "<base32>" }');
  }
  return hazards;
}

/** Hazards as the admin API shows them: the seed and recovery codes of `mfaAlreadyOn` are left out. */
export function describeHazards(hazards: Hazards): Record<string, unknown> {
  const existing = hazards.mfaAlreadyOn;
  if (!existing) return { ...hazards };
  const parameters = { algorithm: existing.algorithm, digits: existing.digits, period: existing.period };
  return { ...hazards, mfaAlreadyOn: { ...parameters, seed: '[redacted]' } };
}
