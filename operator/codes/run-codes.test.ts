import { describe, expect, it } from 'vitest';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import { generateTotpCode, UsedTotpWindows, type Clock } from '../../core/totp/totp-codes.ts';
import { randomSeed } from '../../test/stores/random-material.ts';
import { CodeIssuer } from './code-issuer.ts';
import type { RunGrant, RunJobs } from './run-callers.ts';
import { RUN_CODE_BUDGET } from './run-code-budget.ts';
import { RunCodes } from './run-codes.ts';
import type { SeedSlot } from '../stores/seed-slots.ts';

const grant: RunGrant = {
  namespace: 'team-a',
  job: 'acct-rotate-1',
  jobUid: 'job-1',
  accountName: 'acct',
  accountUid: 'uid-acct',
};
const noJobs: RunJobs = { job: async () => undefined, pods: async () => [] };

/** A clock that jumps to each window it is asked to wait for, so login codes need no real waiting. */
function jumpingClock(): Clock {
  let now = Date.parse('2026-12-01T10:00:01Z');
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
  };
}

function runCodes(slots: Partial<Record<SeedSlot, TotpSeed>>): { codes: RunCodes; clock: Clock } {
  const clock = jumpingClock();
  const seeds = { readRunSeed: async (_account: unknown, slot: SeedSlot) => slots[slot] };
  return { codes: new RunCodes(noJobs, seeds, new CodeIssuer({ clock, usedWindows: new UsedTotpWindows() })), clock };
}

describe('RunCodes', () => {
  it('lists the slots that hold a seed, pending first', async () => {
    expect(await runCodes({ active: randomSeed(), pending: randomSeed() }).codes.slots(grant)).toEqual([
      'pending',
      'active',
    ]);
    expect(await runCodes({ active: randomSeed() }).codes.slots(grant)).toEqual(['active']);
    expect(await runCodes({}).codes.slots(grant)).toEqual([]);
  });

  it("issues login codes of the asked slot's seed, each from a window no other login got", async () => {
    const pending = randomSeed();
    const { codes, clock } = runCodes({ pending, active: randomSeed() });

    const first = await codes.issue(grant, 'pending');
    const firstAt = clock.now();
    const second = await codes.issue(grant, 'pending');

    expect(first.code.reveal()).toBe(generateTotpCode(pending, firstAt).reveal());
    expect(second.code.reveal()).toBe(generateTotpCode(pending, clock.now()).reveal());
    expect(Math.floor(clock.now() / 30_000)).toBeGreaterThan(Math.floor(firstAt / 30_000));
  });

  it(`refuses the code after the run's budget of ${RUN_CODE_BUDGET} with 429, while another run still gets one`, async () => {
    const { codes } = runCodes({ active: randomSeed() });
    for (let i = 0; i < RUN_CODE_BUDGET; i++) await codes.issue(grant, 'active');

    await expect(codes.issue(grant, 'active')).rejects.toMatchObject({ reason: 'RunCodeBudgetExhausted', status: 429 });
    await expect(codes.issue({ ...grant, job: 'acct-rotate-2', jobUid: 'job-2' }, 'active')).resolves.toBeDefined();
  });

  it('answers an empty slot with 404 naming the slot', async () => {
    await expect(runCodes({ active: randomSeed() }).codes.issue(grant, 'pending')).rejects.toMatchObject({
      reason: 'NoPendingSeed',
      status: 404,
    });
  });
});
