import { EventsV1Api, type V1Job } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManagedAccountMfa } from '../../operator/api/v1alpha1/types.generated.ts';
import { RUN_RECOVERY_CODE_BUDGET } from '../../operator/codes/run-code-budget.ts';
import { randomRecoveryCodes, randomSeed } from '../stores/random-material.ts';
import { waitFor } from '../support/wait.ts';
import { CodeServiceFixture } from './code-service-fixture.ts';

/**
 * A run's recovery code (issue 16): `POST /v1/namespaces/{ns}/runs/{job}/recovery-code[?index=N]`, played by an
 * attacker on a real API server. Only a disable or rotate run's own ServiceAccount, while its Job runs, gets one of its
 * own account's codes, claimed in status before the answer exactly as the human route claims one, at most
 * RUN_RECOVERY_CODE_BUDGET per run, and never a position handed out before.
 */
const NS = 'run-break-glass';
const fixture = new CodeServiceFixture();
const tokens: Record<string, string> = {};
const jobs: Record<string, V1Job> = {};
/** Every recovery code stored in this file, for the leak check. */
const stored = new Map<string, readonly string[]>();

async function account(name: string, count = 8): Promise<readonly string[]> {
  await fixture.account(NS, name, randomSeed());
  const codes = randomRecoveryCodes(count).reveal();
  await fixture.storeRecoveryCodes(NS, name, codes);
  stored.set(name, codes);
  return codes;
}

async function run(job: string, of: string, action: 'enable' | 'disable' | 'verify' | 'rotate'): Promise<void> {
  const created = await fixture.runJob(NS, job, of, action);
  tokens[job] = created.token;
  jobs[job] = created.job;
}

const read = (name: string): Promise<ManagedAccountMfa> => fixture.readAccount(NS, name);

const used = async (name: string) => [...((await read(name)).status?.recoveryCodes?.used ?? [])].sort((a, b) => a - b);

const path = (job: string, index?: number | string) =>
  `/v1/namespaces/${NS}/runs/${job}/recovery-code${index === undefined ? '' : `?index=${index}`}`;

/** What a run asks: POST with its own token (or another's), to this replica or `service`. */
const ask = (job: string, index?: number | string, token = tokens[job], service?: { port: number }) =>
  fixture.get(path(job, index), token, { method: 'POST', ...(service ? { service } : {}) });

beforeAll(async () => {
  await fixture.start({ ratePerMinute: 6_000, burst: 1_000 });
  await fixture.namespace(NS);
}, 240_000);
afterAll(() => fixture.stop());

describe('a run asking for a recovery code', () => {
  it('gets the code at the position its app names, claimed in status with history naming the run, an Event and an audit line', async () => {
    const codes = await account('named');
    await run('named-disable-1', 'named', 'disable');
    const user = `system:serviceaccount:${NS}:named-disable-1`;

    const answer = await ask('named-disable-1', 3);

    expect(answer.status).toBe(200);
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.json()).toEqual({ code: codes[3], index: 3, remaining: 7 });
    const mfa = await read('named');
    expect(mfa.status?.recoveryCodes).toMatchObject({ used: [3], remaining: 7, count: 8 });
    expect(mfa.status?.history?.[0]).toMatchObject({
      trigger: 'RecoveryCodeHandedOut',
      user,
      recoveryCodeIndex: 3,
      message: `Recovery code #4 handed out to run named-disable-1 (${user}); 7 remain.`,
    });
    const note = await waitFor('the hand-out Event', async () => {
      const list = await fixture.cp.kubeConfig().makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS });
      return list.items.find((e) => e.regarding?.name === 'named' && e.reason === 'RecoveryCodeHandedOut')?.note;
    });
    expect(note).toContain(`(index 3) was handed out to run named-disable-1 (${user})`);
    const audit = fixture.auditRecords().filter((r) => r.name === 'named');
    expect(audit.map((r) => [r.purpose, r.result, r.job, r.index])).toEqual([
      ['recovery', 'issued', 'named-disable-1', 3],
    ]);
  });

  it('gets the first unused code when its app names no position (allauth, Gitea, django-two-factor)', async () => {
    const codes = await account('any');
    await run('any-rotate-1', 'any', 'rotate');
    await run('any-rotate-2', 'any', 'rotate');

    const first = await ask('any-rotate-1', 0);
    const next = await ask('any-rotate-2');

    expect(first.json()).toMatchObject({ index: 0 });
    expect(next.json()).toEqual({ code: codes[1], index: 1, remaining: 6 });
  });

  it('is refused a position handed out before (a crash between claim and use loses it, never repeats it)', async () => {
    const codes = await account('crashed');
    await run('crashed-disable-1', 'crashed', 'disable');
    await run('crashed-disable-2', 'crashed', 'disable');
    // The first run got #3 and died before typing it: the app still asks for #3.
    expect((await ask('crashed-disable-1', 2)).json()).toMatchObject({ index: 2 });

    const again = await ask('crashed-disable-2', 2);
    const other = await ask('crashed-disable-2');

    expect(again.status).toBe(409);
    expect(again.json().reason).toBe('RecoveryCodeAlreadyUsed');
    expect(again.json().message).toContain('never handed out twice');
    expect(again.json()).not.toHaveProperty('code');
    // Without a position, the next unused one: the lost code is never handed out again.
    expect(other.json()).toEqual({ code: codes[0], index: 0, remaining: 6 });
    expect(await used('crashed')).toEqual([0, 2]);
  });

  it('never gives two concurrent claims, over two replicas and both routes, the same position', async () => {
    const codes = await account('race', 12);
    const replica = await fixture.startService({ ratePerMinute: 6_000, burst: 1_000 });
    for (let i = 1; i <= 4; i++) await run(`race-rotate-${i}`, 'race', 'rotate');
    tokens.keeper = await fixture.serviceAccountToken(NS, 'keeper');
    await fixture.allowRecoveryCodes(NS, 'keeper');

    const answers = await Promise.all([
      ...[1, 2, 3, 4].flatMap((i) => [
        ask(`race-rotate-${i}`, undefined, undefined, i % 2 ? replica : undefined),
        ask(`race-rotate-${i}`, undefined, undefined, i % 2 ? undefined : replica),
      ]),
      fixture.post(fixture.recoveryCodePath(NS, 'race'), tokens.keeper),
      fixture.get(fixture.recoveryCodePath(NS, 'race'), tokens.keeper, { method: 'POST', service: replica }),
    ]);

    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    const bodies = answers.map((a) => a.json() as { code: string; index: number });
    const indexes = bodies.map((b) => b.index).sort((a, b) => a - b);
    expect(indexes).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const b of bodies) expect(b.code).toBe(codes[b.index]);
    expect(await used('race')).toEqual(indexes);
  });

  it(`is refused beyond ${RUN_RECOVERY_CODE_BUDGET} per run, claiming nothing`, async () => {
    await account('budget');
    await run('budget-disable-1', 'budget', 'disable');
    const statuses: number[] = [];
    for (let i = 0; i <= RUN_RECOVERY_CODE_BUDGET; i++) statuses.push((await ask('budget-disable-1')).status);

    expect(statuses).toEqual([...Array<number>(RUN_RECOVERY_CODE_BUDGET).fill(200), 429]);
    expect(fixture.answers.at(-1)!.json()).toMatchObject({ reason: 'RunCodeBudgetExhausted' });
    expect(await used('budget')).toEqual([...Array(RUN_RECOVERY_CODE_BUDGET).keys()]);
  });

  it('is refused for a verify or enable run: they change nothing and never use a recovery code up', async () => {
    await account('quiet');
    await run('quiet-verify-1', 'quiet', 'verify');
    await run('quiet-enable-1', 'quiet', 'enable');

    const verify = await ask('quiet-verify-1');
    const enable = await ask('quiet-enable-1', 0);

    expect(verify.status).toBe(403);
    expect(verify.json().message).toContain('only disable and rotate runs may sign in with a recovery code');
    expect(enable.status).toBe(403);
    expect(await used('quiet')).toEqual([]);
  });

  it("is refused another account's codes, through another run's ServiceAccount, and after its Job finished", async () => {
    await account('victim');
    await account('intruder');
    await run('victim-disable-1', 'victim', 'disable');
    await run('intruder-disable-1', 'intruder', 'disable');
    await run('victim-done-1', 'victim', 'disable');

    const foreign = await ask('victim-disable-1', undefined, tokens['intruder-disable-1']);
    await fixture.finishJob(NS, jobs['victim-done-1']!);
    // The slot listing claims nothing: poll it until the watch has seen the Job finish.
    await waitFor('the watch to see the Job finish', async () => {
      const listing = await fixture.get(`/v1/namespaces/${NS}/runs/victim-done-1/slots`, tokens['victim-done-1']);
      return listing.status === 403;
    });
    const finished = await ask('victim-done-1');

    expect(foreign.status).toBe(403);
    expect(foreign.json().message).toContain("only the run's own ServiceAccount");
    expect(finished.status).toBe(403);
    expect(finished.json().message).toContain('the run has finished');
    expect(await used('victim')).toEqual([]);
    expect(await used('intruder')).toEqual([]);
  }, 60_000);

  it('refuses a malformed or out-of-range position, and a GET, claiming nothing', async () => {
    await account('strict', 4);
    await run('strict-disable-1', 'strict', 'disable');

    const outOfRange = await ask('strict-disable-1', 4);
    const malformed = await ask('strict-disable-1', '-1');
    const get = await fixture.get(path('strict-disable-1'), tokens['strict-disable-1']);

    expect(outOfRange.status).toBe(400);
    expect(outOfRange.json().message).toContain('index must be a position from 0 to 3');
    expect(malformed.status).toBe(400);
    expect(get.status).toBe(405);
    expect(await used('strict')).toEqual([]);
  });

  it('never lets a recovery code out but the one each answer hands out: not in logs, Events, status or refusals', async () => {
    const resources = await Promise.all([...stored.keys()].map(async (n) => JSON.stringify(await read(n))));

    const { handedOut, leaked } = await fixture.recoveryCodeLeaks(NS, [...stored.values()].flat(), resources);

    expect(handedOut).toBeGreaterThan(10);
    expect(leaked).toEqual([]);
  });
});
