import type { V1Secret } from '@kubernetes/client-node';
import type { TotpSeed } from '../../connectors/sdk/totp-seed.ts';
import { SecretValue } from '../secrets/secret-value.ts';
import { decodeRecoveryCodes, decodeSeed, encodeRecoveryCodes, encodeSeed } from '../stores/material.ts';

/**
 * The per-run result Secret: the operator creates it with the run spec (no secrets) and the store's seeds:
 * the pending one as this run's candidate (`seed`, which the runner may adopt or replace with one it captures)
 * and the active one (`active-seed`, read-only: the runner signs in with it but it is never harvested as new
 * material). The runner writes the seed it captured and the recovery codes. Its pod may get and update this
 * one Secret and nothing else.
 */
export const RESULT_KEYS = {
  runSpec: 'run-spec.json',
  seed: 'seed',
  seedState: 'seed-state',
  activeSeed: 'active-seed',
  recoveryCodes: 'recovery-codes',
} as const;

export type ResultSeedState = 'pending' | 'confirmed' | 'disabled';

export interface RunResult {
  seed?: TotpSeed;
  seedState?: ResultSeedState;
  /** The store's active seed when the run started; only to sign in with. */
  activeSeed?: TotpSeed;
  recoveryCodes?: SecretValue<readonly string[]>;
}

const b64 = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64');

export function seedData(seed: TotpSeed, state: ResultSeedState): Record<string, string> {
  return { [RESULT_KEYS.seed]: b64(encodeSeed(seed)), [RESULT_KEYS.seedState]: b64(state) };
}

export function activeSeedData(seed: TotpSeed): Record<string, string> {
  return { [RESULT_KEYS.activeSeed]: b64(encodeSeed(seed)) };
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
  const activeBytes = raw(RESULT_KEYS.activeSeed);
  const codesBytes = raw(RESULT_KEYS.recoveryCodes);
  const state = raw(RESULT_KEYS.seedState)?.toString('utf8') as ResultSeedState | undefined;
  return {
    ...(seedBytes ? { seed: decodeSeed(seedBytes, where) } : {}),
    ...(state ? { seedState: state } : {}),
    ...(activeBytes ? { activeSeed: decodeSeed(activeBytes, where) } : {}),
    ...(codesBytes ? { recoveryCodes: decodeRecoveryCodes(codesBytes, where) } : {}),
  };
}
