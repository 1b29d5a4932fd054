import { randomBytes, randomUUID } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import type { AccountRef, TotpSeedMaterial } from '../../operator/stores/provider.ts';

// What store tests write: fresh random seeds and recovery codes, and an account no earlier test used.

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function randomSeed(overrides: Partial<TotpSeedMaterial> = {}): TotpSeedMaterial {
  const secret = [...randomBytes(32)].map((byte) => BASE32[byte % 32]).join('');
  return {
    secret: new SecretValue(secret),
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    issuer: 'Demo',
    label: 'ops@example.com',
    ...overrides,
  };
}

/** Whether a code is the seed's in this window or a neighbour (a window may turn between issue and check). */
export function validates(seed: TotpSeed, code: unknown): boolean {
  const totp = new TOTP({
    secret: Secret.fromBase32(seed.secret.reveal()),
    algorithm: seed.algorithm,
    digits: seed.digits,
    period: seed.period,
  });
  return typeof code === 'string' && totp.validate({ token: code, window: 1 }) !== null;
}

export function randomRecoveryCodes(count = 8): SecretValue<readonly string[]> {
  return new SecretValue(Array.from({ length: count }, () => randomBytes(5).toString('hex')));
}

let accounts = 0;
export function newAccount(namespace: string): AccountRef {
  accounts++;
  return { namespace, name: `account-${Date.now().toString(36)}-${accounts}`, uid: randomUUID() };
}
