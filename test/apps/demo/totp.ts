import { Secret, TOTP } from 'otpauth';
import { SecretValue } from '../../../core/secrets/secret-value.ts';
import { InvalidHazardError, type ExistingTotp, type TotpParameters, DEFAULT_TOTP } from './hazards.ts';

export const ISSUER = 'Demo SaaS';

/** A TOTP seed and the last time step a code was accepted for, which blocks replays (RFC 6238 §5.2). */
export interface TotpCredential {
  /** Base32 as the app shows it (upper case, padded only with the keyWithPadding hazard). */
  readonly seed: SecretValue<string>;
  readonly parameters: TotpParameters;
  lastAcceptedStep: number;
}

export type CodeCheck = 'accepted' | 'wrong' | 'replayed';

const SEED_BYTES = 20;
// 16 bytes do not fill whole 40-bit base32 groups, so their base32 form needs `=` padding.
const PADDED_SEED_BYTES = 16;

export function newTotpCredential(parameters: TotpParameters, options: { padded: boolean }): TotpCredential {
  const base32 = new Secret({ size: options.padded ? PADDED_SEED_BYTES : SEED_BYTES }).base32;
  const seed = options.padded ? base32.padEnd(Math.ceil(base32.length / 8) * 8, '=') : base32;
  return { seed: new SecretValue(seed), parameters, lastAcceptedStep: -Infinity };
}

/** A credential from a seed a test supplies (hazard mfaAlreadyOn). */
export function existingTotpCredential(existing: ExistingTotp): TotpCredential {
  const seed = existing.seed.replace(/[\s=]/g, '').toUpperCase();
  if (!/^[A-Z2-7]{16,}$/.test(seed)) {
    throw new InvalidHazardError('mfaAlreadyOn.seed must be base32 (A-Z, 2-7) of at least 16 characters');
  }
  const parameters = {
    algorithm: existing.algorithm ?? DEFAULT_TOTP.algorithm,
    digits: existing.digits ?? DEFAULT_TOTP.digits,
    period: existing.period ?? DEFAULT_TOTP.period,
  };
  return { seed: new SecretValue(seed), parameters, lastAcceptedStep: -Infinity };
}

function totpFor(credential: TotpCredential, email = 'account'): TOTP {
  return new TOTP({
    issuer: ISSUER,
    label: email,
    secret: Secret.fromBase32(credential.seed.reveal().replace(/=+$/, '')),
    ...credential.parameters,
  });
}

/** Accepts a code one step either side of `now`, once: a step at or before the last accepted one is a replay. */
export function checkCode(credential: TotpCredential, code: string, now: number): CodeCheck {
  const token = code.replace(/\s/g, '');
  if (!/^\d+$/.test(token) || token.length !== credential.parameters.digits) return 'wrong';
  const totp = totpFor(credential);
  const delta = totp.validate({ token, timestamp: now, window: 1 });
  if (delta === null) return 'wrong';
  const step = totp.counter({ timestamp: now }) + delta;
  if (step <= credential.lastAcceptedStep) return 'replayed';
  credential.lastAcceptedStep = step;
  return 'accepted';
}

/** The `otpauth://totp/...` key URI the QR code carries; keeps the seed's padding as the page shows it. */
export function otpauthUri(credential: TotpCredential, email: string): SecretValue<string> {
  const uri = totpFor(credential, email).toString();
  const seed = credential.seed.reveal();
  return new SecretValue(uri.replace(`secret=${seed.replace(/=+$/, '')}`, `secret=${seed}`));
}

/** The setup key as text: as stored, or lower case in groups of four (hazard lowercaseGroupedKey). */
export function displayedKey(credential: TotpCredential, lowercaseGrouped: boolean): SecretValue<string> {
  return credential.seed.map((seed) =>
    lowercaseGrouped ? (seed.toLowerCase().match(/.{1,4}/g) ?? []).join(' ') : seed,
  );
}
