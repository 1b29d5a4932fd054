/**
 * A store keeps at most two seeds per account: the *pending* one, written durably before the app is asked to confirm
 * it, and the *active* one, which the account's codes come from. A run signs in trying them in this order
 * (operator/codes/run-codes.ts), and a run that adopts a stored seed reports which slot the app took.
 */
export const SEED_SLOTS = ['pending', 'active'] as const;
export type SeedSlot = (typeof SEED_SLOTS)[number];

export function isSeedSlot(value: unknown): value is SeedSlot {
  return SEED_SLOTS.includes(value as SeedSlot);
}
