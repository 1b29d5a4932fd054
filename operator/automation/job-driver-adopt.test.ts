import { beforeEach, describe, expect, it } from 'vitest';
import { DriverFixture, NS } from '../../test/automation/driver-fixture.ts';
import { randomSeed } from '../../test/stores/random-material.ts';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import { toOtpauthUri } from '../../core/totp/seed-text.ts';
import { accountRef } from '../stores/store-resolver.ts';

const SOURCE = 'phone-seed';
const ENROLLED = { mfaState: 'Enabled', totp: { enrolledAt: '2026-11-30T00:00:00Z' } } as const;

/** The driver's choices for spec.mfa.adoptFrom; the runs themselves are played in test/automation/adoption.test.ts. */
describe('JobAutomationDriver with spec.mfa.adoptFrom', () => {
  let f: DriverFixture;
  const seed = randomSeed();
  const adoptFrom = { mfa: { adoptFrom: { secretName: SOURCE } } };

  beforeEach(async () => {
    f = new DriverFixture();
    f.adoptionSource = '5';
    await f.kube.core.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: { name: SOURCE, namespace: NS, labels: { 'mfa-operator.io/credentials': 'true' } },
        data: { otpauth: Buffer.from(toOtpauthUri(seed).reveal()).toString('base64') },
      },
    });
  });

  it('writes the seed as pending only right before the adopt run, which names the Secret version', async () => {
    const mfa = f.account(adoptFrom);
    const step = await f.driver().step(mfa);

    expect(step.events?.[0]?.note).toContain('adopting the existing authenticator');
    const job = f.kube.jobs()[0]!;
    expect(job.metadata?.labels?.['mfa-operator.io/action']).toBe('adopt');
    expect(job.metadata?.annotations).toMatchObject({
      'mfa-operator.io/trigger': 'Adopt',
      'mfa-operator.io/adoption-source-resource-version': '5',
    });
    expect((await f.store.readPendingSeed(accountRef(mfa)))?.seed.secret.reveal()).toBe(seed.secret.reveal());
    expect(JSON.stringify(f.kube.jobs())).not.toContain(seed.secret.reveal());
  });

  it('without the code service serving runs, starts nothing and writes nothing', async () => {
    const mfa = f.account(adoptFrom);
    const step = await f.driver({}).step(mfa);

    expect(step.conditions[0]).toMatchObject({ status: 'False', reason: 'CodeServiceRequired' });
    expect(f.kube.jobs()).toEqual([]);
    expect(await f.store.readPendingSeed(accountRef(mfa))).toBeUndefined();
  });

  it('a Secret the cache does not hold (missing or unlabelled) is AdoptionSourceNotFound, and is not read', async () => {
    const mfa = f.account(adoptFrom);
    f.adoptionSource = undefined;
    const step = await f.driver().step(mfa);

    expect(step.conditions[0]).toMatchObject({ status: 'False', reason: 'AdoptionSourceNotFound' });
    expect(f.kube.jobs()).toEqual([]);
  });

  it('leaves a pending seed of an earlier enable run alone: that run is what comes next', async () => {
    const mfa = f.account(adoptFrom);
    const earlier = randomSeed();
    await f.store.writePendingSeed(accountRef(mfa), earlier);

    const step = await f.driver().step(mfa);

    expect(step.conditions).toContainEqual(
      expect.objectContaining({ type: 'SeedAdopted', reason: 'AdoptFromIgnored' }),
    );
    expect(f.kube.jobs()[0]?.metadata?.labels?.['mfa-operator.io/action']).toBe('enable');
    expect((await f.store.readPendingSeed(accountRef(mfa)))?.seed.secret.reveal()).toBe(earlier.secret.reveal());
  });

  it('says adoptFrom is ignored on an account the operator enrolled, and not on one it adopted', async () => {
    const enrolled = f.account(adoptFrom, ENROLLED);
    expect((await f.driver().step(enrolled)).conditions).toEqual([
      expect.objectContaining({ type: 'SeedAdopted', status: 'False', reason: 'AdoptFromIgnored' }),
    ]);

    const adopted = f.account(adoptFrom, {
      ...ENROLLED,
      conditions: [
        {
          type: 'SeedAdopted',
          status: 'True',
          reason: 'Adopted',
          message: 'm',
          lastTransitionTime: '2026-11-30T00:00:00Z',
        },
      ],
    });
    f.adoptionSource = undefined;
    expect((await f.driver().step(adopted)).conditions).toEqual([]);
    expect(f.kube.jobs()).toEqual([]);
  });

  it('a harvest repeated after a crash (promoted, status not yet written) loses and duplicates nothing', async () => {
    f.kube.secret(NS, SOURCE)!.data!.codes = Buffer.from('aaaa-1111\nbbbb-2222\n').toString('base64');
    const mfa = f.account({ mfa: { adoptFrom: { secretName: SOURCE, recoveryCodesKey: 'codes' } } });
    await f.driver().step(mfa);
    const run = f.newestJob('adopt');
    f.runnerWrites(run, { 'adopted-slot': Buffer.from('pending').toString('base64') });
    f.kube.finishRun(NS, run, { outcome: 'Adopted', reason: 'Adopted', message: 'adopted', retryable: false });

    const ref = accountRef(mfa);
    const first = await f.driver().step(mfa); // the crash: its status is never written, its cleanup never runs
    const codesVersion = (await f.store.readMetadata(ref)).recoveryCodes?.version;
    const again = await f.driver().step(mfa);

    for (const step of [first, again])
      expect(step.conditions).toContainEqual(expect.objectContaining({ type: 'SeedAdopted', status: 'True' }));
    expect((await f.store.readActiveSeed(ref))?.seed.secret.reveal()).toBe(seed.secret.reveal());
    expect(await f.store.readPendingSeed(ref)).toBeUndefined();
    expect((await f.store.readRecoveryCodes(ref))?.codes.reveal()).toEqual(['aaaa-1111', 'bbbb-2222']);
    expect(codesVersion).toBeDefined();
    expect((await f.store.readMetadata(ref)).recoveryCodes?.version, 'the same codes are not written again').toBe(
      codesVersion,
    );
    expect(again.status?.history?.[0]).toMatchObject({ trigger: 'Adopt', outcome: 'Adopted' });
  });

  it('a failed adoption takes its candidate out of the store, and keeps recovery codes it did not write', async () => {
    const mfa = f.account(adoptFrom);
    const ref = accountRef(mfa);
    await f.driver().step(mfa);
    f.kube.finishRun(NS, f.newestJob('adopt'), {
      outcome: 'Failed',
      reason: 'AdoptionSeedRejected',
      message: 'refused',
      retryable: false,
    });
    await f.driver().step(mfa);
    expect(await f.store.readMetadata(ref)).toMatchObject({ active: undefined, pending: undefined });

    const other = f.account(adoptFrom);
    const otherRef = accountRef(other);
    await f.store.writeRecoveryCodes(otherRef, new SecretValue<readonly string[]>(['kept-1']));
    await f.driver().step(other);
    f.kube.finishRun(NS, f.newestJob('adopt'), {
      outcome: 'Failed',
      reason: 'AdoptionMfaOff',
      message: 'off',
      retryable: false,
    });
    await f.driver().step(other);
    expect((await f.store.readRecoveryCodes(otherRef))?.codes.reveal()).toEqual(['kept-1']);
    expect(await f.store.readActiveSeed(otherRef)).toBeUndefined();
  });
});
