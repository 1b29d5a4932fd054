import { describe, expect, it } from 'vitest';
import type { RecoveryCodesStatus } from '../../api/v1alpha1/types.generated.ts';
import type { ManagedAccountMfa } from '../../api/v1alpha1/types.generated.ts';
import { recoveryCodesLow, recoveryCodesRecord } from './recovery-codes.ts';

const store = {
  storeKind: 'Default',
  provider: 'kubernetes',
  name: 'shared-mfa-recovery-codes',
  version: '4',
} as const;

/** What status holds after the code service handed out positions 0 and 2 of version 4's ten codes. */
const afterHandOuts: RecoveryCodesStatus = {
  store,
  count: 10,
  storedAt: '2026-11-27T09:00:00Z',
  version: '4',
  used: [0, 2],
  remaining: 8,
  lastHandedOutAt: '2026-11-28T12:00:00Z',
};

describe('recoveryCodesRecord (what a harvest writes)', () => {
  it('keeps the used positions and the last hand-out when the same version is stored again', () => {
    const record = recoveryCodesRecord(
      afterHandOuts,
      { count: 10, version: '4' },
      { store, storedAt: '2026-11-29T08:00:00Z' },
    );

    expect(record).toEqual({
      store,
      count: 10,
      storedAt: '2026-11-29T08:00:00Z',
      version: '4',
      used: [0, 2],
      remaining: 8,
      lastHandedOutAt: '2026-11-28T12:00:00Z',
    });
  });

  it('starts a new version with nothing used and no last hand-out', () => {
    const newStore = { ...store, version: '5' };
    const record = recoveryCodesRecord(
      afterHandOuts,
      { count: 8, version: '5' },
      { store: newStore, storedAt: '2026-11-29T08:00:00Z' },
    );

    expect(record).toEqual({
      store: newStore,
      count: 8,
      storedAt: '2026-11-29T08:00:00Z',
      version: '5',
      used: [],
      remaining: 8,
    });
  });

  it('drops used positions past the end of a same-version set that reports fewer codes', () => {
    const record = recoveryCodesRecord(afterHandOuts, { count: 2, version: '4' }, { store });

    expect(record.used).toEqual([0]);
    expect(record.remaining).toBe(1);
  });

  it('records a first harvest with nothing used', () => {
    const record = recoveryCodesRecord(undefined, { count: 10, version: '1' }, { store });

    expect(record).toMatchObject({ count: 10, version: '1', used: [], remaining: 10 });
    expect(record).not.toHaveProperty('lastHandedOutAt');
  });
});

describe('recoveryCodesLow', () => {
  const mfa = (lowThreshold?: number) =>
    ({
      metadata: { name: 'shared', namespace: 'team-a' },
      spec: { connector: 'demo', mfa: lowThreshold === undefined ? {} : { recoveryCodes: { lowThreshold } } },
    }) as unknown as ManagedAccountMfa;

  it('is True below the threshold (default 3), UsedUp at zero, False at or above it', () => {
    expect(recoveryCodesLow(mfa(), { count: 10, remaining: 2 })).toMatchObject({
      status: 'True',
      reason: 'BelowThreshold',
    });
    expect(recoveryCodesLow(mfa(), { count: 10, remaining: 0 })).toMatchObject({
      status: 'True',
      reason: 'RecoveryCodesUsedUp',
    });
    expect(recoveryCodesLow(mfa(), { count: 10, remaining: 3 })).toMatchObject({
      status: 'False',
      reason: 'EnoughLeft',
    });
    expect(recoveryCodesLow(mfa(0), { count: 10, remaining: 0 })).toMatchObject({ status: 'False' });
  });

  it('says nothing for an account without recorded codes, or whose app gave none', () => {
    expect(recoveryCodesLow(mfa(), undefined)).toBeUndefined();
    expect(recoveryCodesLow(mfa(), { count: 0, remaining: 0 })).toBeUndefined();
  });
});
