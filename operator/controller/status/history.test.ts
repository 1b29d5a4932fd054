import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../api/v1alpha1/types.generated.ts';
import { HISTORY_LIMIT_PER_KIND, withHistoryEntry } from './history.ts';

const run = (n: number, outcome = 'Enabled'): RunRecord => ({ job: `acct-enable-${n}`, trigger: 'Created', outcome });
const handOut = (n: number): RunRecord => ({
  trigger: 'RecoveryCodeHandedOut',
  outcome: 'HandedOut',
  user: 'oncall',
  recoveryCodeIndex: n,
});

describe('withHistoryEntry', () => {
  it('keeps a failed run entry through a burst of hand-outs, and the newest 20 hand-outs', () => {
    let history = withHistoryEntry([], run(1, 'Failed'));
    for (let i = 0; i < 50; i++) history = withHistoryEntry(history, handOut(i));

    expect(history).toHaveLength(HISTORY_LIMIT_PER_KIND + 1);
    expect(history.at(-1)).toEqual(run(1, 'Failed'));
    expect(history.filter((h) => h.job === undefined).map((h) => h.recoveryCodeIndex)).toEqual(
      Array.from({ length: 20 }, (_, i) => 49 - i),
    );
  });

  it('keeps the newest 20 runs whatever the hand-outs, newest first', () => {
    let history: RunRecord[] = [handOut(0)];
    for (let i = 1; i <= 30; i++) history = withHistoryEntry(history, run(i));

    expect(history.map((h) => h.job ?? 'hand-out')).toEqual([
      ...Array.from({ length: 20 }, (_, i) => `acct-enable-${30 - i}`),
      'hand-out',
    ]);
  });

  it('replaces the entry of a Job harvested again instead of adding a second one', () => {
    const history = withHistoryEntry([run(2, 'Running'), handOut(0), run(1)], run(2));

    expect(history).toEqual([run(2), handOut(0), run(1)]);
  });

  it('never merges two hand-outs, which have no Job', () => {
    expect(withHistoryEntry([handOut(0)], handOut(1))).toEqual([handOut(1), handOut(0)]);
  });
});
