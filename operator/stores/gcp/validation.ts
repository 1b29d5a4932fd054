import type { StoreValidation, StoreValidationReason } from '../provider.ts';
import type { StoreError, StoreErrorReason } from '../store-error.ts';

const VALIDATION_REASONS: Partial<Record<StoreErrorReason, StoreValidationReason>> = {
  AuthFailed: 'AuthFailed',
  PermissionDenied: 'PermissionDenied',
  NotFound: 'NotFound',
  InvalidStoreConfig: 'NotFound',
  SecretStoreUnavailable: 'Unreachable',
  SecretStoreConflict: 'Unreachable',
};

/** The store's Ready=False reason and message for a failed probe. */
export function validationFailure(e: StoreError, parent: string): StoreValidation {
  const reason = VALIDATION_REASONS[e.reason] ?? 'Unreachable';
  const lead = reason === 'NotFound' ? `${parent} was not found or is not a valid Secret Manager location. ` : '';
  return { ready: false, reason, message: `${lead}${e.message}` };
}
