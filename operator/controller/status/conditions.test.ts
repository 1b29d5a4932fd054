import { describe, expect, it } from 'vitest';
import type { Condition } from '../../api/v1alpha1/types.generated.ts';
import { setCondition } from './conditions.ts';

const t0 = new Date('2026-11-27T10:00:00.123Z');
const t1 = new Date('2026-11-27T10:05:00Z');

describe('setCondition', () => {
  it('adds a condition with observedGeneration and a second-precision transition time', () => {
    const conditions: Condition[] = [];
    expect(
      setCondition(conditions, { type: 'Ready', status: 'Unknown', reason: 'Reconciling', message: 'm' }, 3, t0),
    ).toBe(true);
    expect(conditions).toEqual([
      {
        type: 'Ready',
        status: 'Unknown',
        reason: 'Reconciling',
        message: 'm',
        observedGeneration: 3,
        lastTransitionTime: '2026-11-27T10:00:00Z',
      },
    ]);
  });

  it('keeps lastTransitionTime when only the reason or message changes', () => {
    const conditions: Condition[] = [];
    setCondition(conditions, { type: 'Ready', status: 'False', reason: 'A', message: 'a' }, 1, t0);
    expect(setCondition(conditions, { type: 'Ready', status: 'False', reason: 'B', message: 'b' }, 2, t1)).toBe(true);
    expect(conditions[0]).toMatchObject({
      reason: 'B',
      message: 'b',
      observedGeneration: 2,
      lastTransitionTime: '2026-11-27T10:00:00Z',
    });
  });

  it('moves lastTransitionTime when the status changes, and reports no change for an identical update', () => {
    const conditions: Condition[] = [];
    setCondition(conditions, { type: 'Ready', status: 'False', reason: 'A', message: 'a' }, 1, t0);
    setCondition(conditions, { type: 'Ready', status: 'True', reason: 'A', message: 'a' }, 1, t1);
    expect(conditions[0]!.lastTransitionTime).toBe('2026-11-27T10:05:00Z');
    expect(setCondition(conditions, { type: 'Ready', status: 'True', reason: 'A', message: 'a' }, 1, new Date())).toBe(
      false,
    );
  });
});
