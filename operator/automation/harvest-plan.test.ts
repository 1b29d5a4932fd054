import { describe, expect, it } from 'vitest';
import { randomSeed } from '../../test/stores/random-material.ts';
import { planSeedHarvest, type SeedHarvest } from './harvest-plan.ts';
import type { ResultSeedState } from '../run-contract/result-secret.ts';
import type { JobAction } from '../run-contract/run-spec.ts';
import type { SeedSlot } from '../stores/seed-slots.ts';

const S0 = randomSeed();
const S1 = randomSeed();
const S2 = randomSeed();
/** The same seed as it comes back from another read (a different object). */
const copy = (seed: typeof S0) => ({ ...seed });

const cases: {
  name: string;
  action: JobAction;
  succeeded: boolean;
  seed?: typeof S0;
  state?: ResultSeedState;
  adoptedSlot?: SeedSlot;
  store: { active?: typeof S0; pending?: typeof S0 };
  plan: SeedHarvest;
}[] = [
  {
    name: 'a run that left no seed',
    action: 'enable',
    succeeded: false,
    store: { active: S0 },
    plan: { kind: 'none', why: 'NoSeed' },
  },
  {
    name: 'a disable run (its seed is the one turned off)',
    action: 'disable',
    succeeded: true,
    seed: S0,
    state: 'disabled',
    store: { active: S0 },
    plan: { kind: 'none', why: 'DisableRun' },
  },
  {
    name: 'a rotation that turned MFA off and failed before a new seed',
    action: 'rotate',
    succeeded: false,
    seed: S1,
    state: 'disabled',
    store: { active: S0, pending: S1 },
    plan: { kind: 'none', why: 'SeedTurnedOff' },
  },
  // Issue 11.1: the active seed must never overwrite (and then replace) the new pending seed.
  {
    name: 'a captured seed equal to the active one, confirmed, over a pending new seed',
    action: 'rotate',
    succeeded: false,
    seed: copy(S0),
    state: 'confirmed',
    store: { active: S0, pending: S1 },
    plan: { kind: 'none', why: 'AlreadyActive' },
  },
  // Issue 11.8: a run signs in with codes from a store slot and reports which one the app took.
  {
    name: 'an enable re-run that adopted the active slot',
    action: 'enable',
    succeeded: true,
    adoptedSlot: 'active',
    store: { active: S0 },
    plan: { kind: 'none', why: 'AlreadyActive' },
  },
  {
    name: 'a rotation retry that failed without adopting: the new pending seed stays',
    action: 'rotate',
    succeeded: false,
    store: { active: S0, pending: S1 },
    plan: { kind: 'none', why: 'NoSeed' },
  },
  {
    name: 'a rotation retry that adopted the pending slot',
    action: 'rotate',
    succeeded: true,
    adoptedSlot: 'pending',
    store: { active: S0, pending: S1 },
    plan: { kind: 'promotePending' },
  },
  {
    name: 'a run killed right after it recorded the pending slot as adopted',
    action: 'enable',
    succeeded: false,
    adoptedSlot: 'pending',
    store: { pending: S1 },
    plan: { kind: 'promotePending' },
  },
  {
    name: 'a repeated harvest of an adoption already promoted',
    action: 'rotate',
    succeeded: true,
    adoptedSlot: 'pending',
    store: { active: S1 },
    plan: { kind: 'none', why: 'AlreadyActive' },
  },
  {
    name: 'a disable run that signed in with the pending slot',
    action: 'disable',
    succeeded: true,
    adoptedSlot: 'pending',
    store: { active: S0, pending: S1 },
    plan: { kind: 'none', why: 'DisableRun' },
  },
  {
    name: 'a rotation that captured a seed after finding MFA off (the pending one is dead)',
    action: 'rotate',
    succeeded: true,
    seed: S2,
    state: 'confirmed',
    store: { active: S0, pending: S1 },
    plan: { kind: 'writePending', promote: true },
  },
  {
    name: 'a first enable killed after storing the pending seed',
    action: 'enable',
    succeeded: false,
    seed: S1,
    state: 'pending',
    store: {},
    plan: { kind: 'writePending', promote: false },
  },
  {
    name: 'a first enable that failed after the app turned MFA on (confirmed)',
    action: 'enable',
    succeeded: false,
    seed: S1,
    state: 'confirmed',
    store: {},
    plan: { kind: 'writePending', promote: true },
  },
  {
    name: 'a Complete enable whose slot says pending',
    action: 'enable',
    succeeded: true,
    seed: S1,
    state: 'pending',
    store: {},
    plan: { kind: 'writePending', promote: true },
  },
];

describe('planSeedHarvest', () => {
  it.each(cases)('$name', ({ action, succeeded, seed, state, adoptedSlot, store, plan }) => {
    expect(
      planSeedHarvest(
        action,
        succeeded,
        { ...(seed ? { seed } : {}), ...(state ? { state } : {}), ...(adoptedSlot ? { adoptedSlot } : {}) },
        store,
      ),
    ).toEqual(plan);
  });

  it('never plans to write the active seed into the pending slot, whatever the run says', () => {
    for (const action of ['enable', 'rotate', 'disable'] as const) {
      for (const state of ['pending', 'confirmed', 'disabled'] as const) {
        for (const succeeded of [true, false]) {
          expect(planSeedHarvest(action, succeeded, { seed: copy(S0), state }, { active: S0, pending: S1 }).kind).toBe(
            'none',
          );
        }
      }
    }
  });
});
