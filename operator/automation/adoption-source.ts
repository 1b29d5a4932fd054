import type { V1Secret } from '@kubernetes/client-node';
import { CREDENTIALS_SELECTOR, credentialsOptedIn } from '../api/v1alpha1/resources.ts';
import type { AdoptFromSpec, ManagedAccountMfa } from '../api/v1alpha1/types.generated.ts';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import { parseOtpauthUri, parseTextKey, SeedFormatError, totpParametersFromText } from '../../core/totp/seed-text.ts';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import { checkRecoveryCodes } from '../stores/material.ts';
import type { RecoveryCodes } from '../stores/provider.ts';
import { isStoreError } from '../stores/store-error.ts';
import type { ConditionUpdate } from '../controller/status/conditions.ts';

export const DEFAULT_SEED_KEY = 'otpauth';
/** status.history's trigger of an adopt run. */
export const ADOPT_TRIGGER = 'Adopt';
/** The condition that says whether spec.mfa.adoptFrom's seed is the account's; it does not count toward Ready. */
export const SEED_ADOPTED = 'SeedAdopted';
/** Keys beside a bare base32 key; an otpauth URI states its own parameters. */
const PARAMETER_KEYS = ['algorithm', 'digits', 'period'] as const;

/** What spec.mfa.adoptFrom's Secret holds, read and checked; the values travel only in SecretValue. */
export interface AdoptionSource {
  seed: TotpSeed;
  recoveryCodes?: RecoveryCodes;
}

/**
 * Why the Secret of spec.mfa.adoptFrom cannot be adopted: a condition reason and a message naming the Secret, the key
 * and what to fix, never a value. Permanent until the Secret or the spec changes (the Secret informer syncs on both).
 */
export class AdoptionSourceProblem extends Error {
  readonly reason: 'AdoptionSourceNotFound' | 'AdoptionSourceInvalid';

  constructor(reason: AdoptionSourceProblem['reason'], message: string) {
    super(message);
    this.name = 'AdoptionSourceProblem';
    this.reason = reason;
  }
}

/** spec.mfa.adoptFrom is set but left alone: the operator holds a seed for the account, which adopting would replace. */
export function adoptFromIgnored(mfa: ManagedAccountMfa, why: string): ConditionUpdate {
  const name = adoptFromOf(mfa)!.secretName;
  return {
    type: SEED_ADOPTED,
    status: 'False',
    reason: 'AdoptFromIgnored',
    message: `spec.mfa.adoptFrom is ignored and Secret "${name}" is not read: ${why}. Remove spec.mfa.adoptFrom.`,
  };
}

/** After the harvest promoted the adopted seed: the store holds it, so the source Secret is no longer needed. */
export function seedAdopted(mfa: ManagedAccountMfa, recoveryCodes: number): ConditionUpdate {
  const name = adoptFromOf(mfa)?.secretName ?? 'of spec.mfa.adoptFrom';
  const codes = recoveryCodes > 0 ? ` and its ${recoveryCodes} recovery codes` : '';
  return {
    type: SEED_ADOPTED,
    status: 'True',
    reason: 'Adopted',
    message:
      `The app accepted a code from the seed in Secret "${name}"; the store now holds that seed${codes}. ` +
      'The Secret may be deleted: spec.mfa.adoptFrom is not read again for this account.',
  };
}

export function adoptFromOf(mfa: ManagedAccountMfa): AdoptFromSpec | undefined {
  return mfa.spec.mfa?.adoptFrom;
}

/**
 * Reads the existing seed (an otpauth://totp/ URI, or a base32 key with the keys algorithm, digits and period) and the
 * optional recovery codes (one per line) out of the Secret. A Secret without the credentials label is reported exactly
 * as a missing one, as for the credentials Secret: the operator uses only Secrets their owner labelled for it.
 */
export function readAdoptionSource(mfa: ManagedAccountMfa, secret: V1Secret | undefined): AdoptionSource {
  const spec = adoptFromOf(mfa)!;
  const name = spec.secretName;
  const namespace = mfa.metadata.namespace ?? 'default';
  if (!secret || !credentialsOptedIn(secret))
    throw new AdoptionSourceProblem(
      'AdoptionSourceNotFound',
      `No Secret "${name}" (spec.mfa.adoptFrom.secretName) with the label ${CREDENTIALS_SELECTOR} in namespace "${namespace}". ` +
        'Create it with the existing seed and that label, or label an existing one ' +
        `(kubectl label secret ${name} -n ${namespace} ${CREDENTIALS_SELECTOR}). Nothing was adopted.`,
    );
  const values = decoded(secret);
  const seedKey = spec.seedKey ?? DEFAULT_SEED_KEY;
  const text = values.get(seedKey)?.trim();
  if (!text)
    throw invalid(
      name,
      seedKey,
      'is missing or empty (spec.mfa.adoptFrom.seedKey)',
      'put the seed there as an otpauth://totp/ URI or a base32 key, or point spec.mfa.adoptFrom.seedKey at the key that holds it',
    );
  const seed = readSeed(name, seedKey, text, values);
  const codesKey = spec.recoveryCodesKey;
  if (codesKey === undefined) return { seed };
  return { seed, recoveryCodes: readRecoveryCodes(name, codesKey, values.get(codesKey)) };
}

function readSeed(name: string, seedKey: string, text: string, values: Map<string, string>): TotpSeed {
  const given = PARAMETER_KEYS.filter((k) => values.get(k)?.trim());
  if (/^otpauth:/i.test(text)) {
    if (given.length > 0)
      throw invalid(
        name,
        given[0]!,
        'is set beside an otpauth URI, which states its own parameters',
        `remove the key, or put a bare base32 key in "${seedKey}"`,
      );
    return parsed(name, seedKey, () => parseOtpauthUri(text), 'use an otpauth://totp/ URI with a base32 secret');
  }
  const parameters: Record<string, string> = {};
  for (const key of given) {
    const value = values.get(key)!.trim();
    parsed(
      name,
      key,
      () => totpParametersFromText({ [key]: value }),
      'use SHA1, SHA256 or SHA512, 6 or 8, and 1 to 300',
    );
    parameters[key] = value;
  }
  const stated = totpParametersFromText(parameters);
  return parsed(name, seedKey, () => parseTextKey(text, stated), 'use the full base32 key the app showed (A-Z, 2-7)');
}

function parsed<T>(name: string, key: string, read: () => T, fix: string): T {
  try {
    return read();
  } catch (e: unknown) {
    if (!(e instanceof SeedFormatError)) throw e;
    // The parsers quote a parameter's value; a seed pasted into the wrong key must not reach status, so none is quoted.
    throw invalid(name, key, `is not a usable TOTP seed: ${e.problem.replace(/ "[^"]*"/g, '')}`, fix);
  }
}

function readRecoveryCodes(name: string, key: string, text: string | undefined): RecoveryCodes {
  const lines = (text ?? '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (lines.length === 0)
    throw invalid(
      name,
      key,
      'is missing or holds no codes (spec.mfa.adoptFrom.recoveryCodesKey)',
      'put the recovery codes there, one per line, or remove spec.mfa.adoptFrom.recoveryCodesKey',
    );
  const codes = new SecretValue<readonly string[]>(lines);
  try {
    checkRecoveryCodes(codes);
  } catch (e: unknown) {
    if (!isStoreError(e)) throw e;
    throw invalid(name, key, `holds codes the store refuses (${e.message})`, 'fix the list');
  }
  return codes;
}

function invalid(name: string, key: string, problem: string, fix: string): AdoptionSourceProblem {
  return new AdoptionSourceProblem(
    'AdoptionSourceInvalid',
    `Secret "${name}" (spec.mfa.adoptFrom) key "${key}" ${problem}; ${fix}. Nothing was adopted; the operator tries again when the Secret changes.`,
  );
}

function decoded(secret: V1Secret): Map<string, string> {
  const values = new Map<string, string>();
  for (const [key, value] of Object.entries(secret.data ?? {}))
    values.set(key, Buffer.from(value, 'base64').toString('utf8'));
  for (const [key, value] of Object.entries(secret.stringData ?? {})) values.set(key, value);
  return values;
}
