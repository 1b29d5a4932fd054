import type { V1Secret } from '@kubernetes/client-node';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import { isSeedSlot, type SeedSlot } from '../stores/seed-slots.ts';
import { decodeRecoveryCodes, decodeSeed, encodeRecoveryCodes, encodeSeed } from '../stores/material.ts';

/**
 * The per-run result Secret: the operator creates it with the run spec (no secrets) and nothing else; a stored seed
 * never enters it (a run signs in with codes from the code service, operator/codes/run-codes.ts). The runner writes
 * the seed it captured (`seed`, durable before the app is asked to confirm it), the recovery codes, and which store
 * slot the app took when it adopted one (`adopted-slot`). Its pod may get and update this one Secret and nothing else.
 */
export const RESULT_KEYS = {
  runSpec: 'run-spec.json',
  seed: 'seed',
  seedState: 'seed-state',
  adoptedSlot: 'adopted-slot',
  recoveryCodes: 'recovery-codes',
} as const;

export type ResultSeedState = 'pending' | 'confirmed' | 'disabled';

export interface RunResult {
  seed?: TotpSeed;
  seedState?: ResultSeedState;
  /** The store slot whose seed the app took at sign-in, when the run adopted it instead of enrolling. */
  adoptedSlot?: SeedSlot;
  recoveryCodes?: SecretValue<readonly string[]>;
}

const b64 = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64');

export function seedData(seed: TotpSeed, state: ResultSeedState): Record<string, string> {
  return { [RESULT_KEYS.seed]: b64(encodeSeed(seed)), [RESULT_KEYS.seedState]: b64(state) };
}

export function adoptedSlotData(slot: SeedSlot): Record<string, string> {
  return { [RESULT_KEYS.adoptedSlot]: b64(slot) };
}

export function seedStateData(state: ResultSeedState): Record<string, string> {
  return { [RESULT_KEYS.seedState]: b64(state) };
}

export function recoveryCodesData(codes: SecretValue<readonly string[]>): Record<string, string> {
  return { [RESULT_KEYS.recoveryCodes]: b64(encodeRecoveryCodes(codes)) };
}

/** Reads what a run left; `where` names the Secret in error messages (never its values). */
export function readRunResult(secret: V1Secret | undefined): RunResult {
  const data = secret?.data ?? {};
  const where = `result Secret ${secret?.metadata?.namespace}/${secret?.metadata?.name}`;
  const raw = (key: string) => (data[key] ? Buffer.from(data[key], 'base64') : undefined);
  const seedBytes = raw(RESULT_KEYS.seed);
  const codesBytes = raw(RESULT_KEYS.recoveryCodes);
  const state = raw(RESULT_KEYS.seedState)?.toString('utf8') as ResultSeedState | undefined;
  const adopted = adoptedSlotOf(raw(RESULT_KEYS.adoptedSlot));
  return {
    ...(seedBytes ? { seed: decodeSeed(seedBytes, where) } : {}),
    ...(state ? { seedState: state } : {}),
    ...(adopted ? { adoptedSlot: adopted } : {}),
    ...(codesBytes ? { recoveryCodes: decodeRecoveryCodes(codesBytes, where) } : {}),
  };
}

/** Written by the run's pod: anything but the two slot names is ignored, never promoted. */
function adoptedSlotOf(bytes: Buffer | undefined): SeedSlot | undefined {
  const text = bytes?.toString('utf8');
  return isSeedSlot(text) ? text : undefined;
}
