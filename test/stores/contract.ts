import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import type { AccountRef, SecretStoreProvider } from '../../operator/stores/provider.ts';
import { isStoreError } from '../../operator/stores/store-error.ts';
import { newAccount, randomRecoveryCodes, randomSeed } from './random-material.ts';

/** What a provider's test file hands the contract: a ready provider and a namespace it may write in. */
export interface StoreContractSubject {
  readonly provider: SecretStoreProvider;
  readonly namespace: string;
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e: unknown) {
    return e;
  }
  throw new Error('expected the operation to fail');
}

/** Everything an error could show a human or a log line. */
function renderedError(e: unknown): string {
  return `${String(e)} ${inspect(e, { depth: 5 })} ${JSON.stringify(e)}`;
}

interface ContractCases {
  readonly account: () => AccountRef;
  readonly store: () => SecretStoreProvider;
}

/**
 * The behaviour every secret store provider must have, registered as vitest cases. Each provider's
 * test file calls this with a subject built against its real backend (a real API server, the
 * Secret Manager test server), then adds the cases only that backend can show.
 */
export function describeStoreContract(providerName: string, subject: () => StoreContractSubject): void {
  const cases: ContractCases = { account: () => newAccount(subject().namespace), store: () => subject().provider };
  describe(`${providerName} store contract`, () => {
    describe('seeds', () => seedCases(cases));
    describe('recovery codes', () => recoveryCodeCases(cases));
    describe('metadata and deletion', () => metadataAndDeletionCases(cases));
    describe('secrecy', () => secrecyCases(cases));
  });
}

function seedCases({ account, store }: ContractCases): void {
  it('reads a written pending seed back as pending, with no active seed yet', async () => {
    const ref = account();
    const seed = randomSeed({ algorithm: 'SHA256', digits: 8, period: 60 });

    const written = await store().writePendingSeed(ref, seed);
    const pending = await store().readPendingSeed(ref);

    expect(pending?.seed.secret.reveal()).toBe(seed.secret.reveal());
    expect(pending?.metadata).toMatchObject({
      version: written.version,
      algorithm: 'SHA256',
      digits: 8,
      period: 60,
      issuer: 'Demo',
    });
    expect(await store().readActiveSeed(ref)).toBeUndefined();
  });

  it('keeps one pending version when the same seed is written twice', async () => {
    const ref = account();
    const seed = randomSeed();

    const first = await store().writePendingSeed(ref, seed);
    const second = await store().writePendingSeed(ref, seed);

    expect(second.version).toBe(first.version);
  });

  it('promotes the pending seed to active and leaves nothing pending', async () => {
    const ref = account();
    const seed = randomSeed();
    const written = await store().writePendingSeed(ref, seed);

    const promoted = await store().promotePendingSeed(ref, written.version);

    expect(promoted.version).toBe(written.version);
    expect((await store().readActiveSeed(ref))?.seed.secret.reveal()).toBe(seed.secret.reveal());
    expect(await store().readPendingSeed(ref)).toBeUndefined();
  });

  it('does not touch the active seed when a second pending seed is written', async () => {
    const ref = account();
    const first = randomSeed();
    const second = randomSeed({ digits: 8 });
    await store().promotePendingSeed(ref, (await store().writePendingSeed(ref, first)).version);

    const written = await store().writePendingSeed(ref, second);

    const active = await store().readActiveSeed(ref);
    expect(active?.seed.secret.reveal()).toBe(first.secret.reveal());
    expect(active?.seed.digits).toBe(6);
    expect((await store().readPendingSeed(ref))?.seed.secret.reveal()).toBe(second.secret.reveal());
    expect(written.version).not.toBe(active?.metadata.version);
  });

  it('repeats a promotion of the same version quietly, and refuses a version that is not pending', async () => {
    const ref = account();
    const written = await store().writePendingSeed(ref, randomSeed());
    await store().promotePendingSeed(ref, written.version);

    await expect(store().promotePendingSeed(ref, written.version)).resolves.toMatchObject({ version: written.version });
    await expect(store().promotePendingSeed(ref, 'no-such-version')).rejects.toMatchObject({ reason: 'NotFound' });
    await expect(store().promotePendingSeed(ref)).rejects.toMatchObject({ reason: 'NotFound', retryable: false });
  });

  it('fails with NotFound when there is nothing to promote', async () => {
    await expect(store().promotePendingSeed(account())).rejects.toMatchObject({ reason: 'NotFound' });
  });
}

function recoveryCodeCases({ account, store }: ContractCases): void {
  it('stores recovery codes, replaces them, and writes identical codes only once', async () => {
    const ref = account();
    const first = randomRecoveryCodes(10);
    const second = randomRecoveryCodes(8);

    const written = await store().writeRecoveryCodes(ref, first);
    const again = await store().writeRecoveryCodes(ref, first);
    expect(again.version).toBe(written.version);
    expect((await store().readRecoveryCodes(ref))?.codes.reveal()).toEqual(first.reveal());

    await store().writeRecoveryCodes(ref, second);
    const stored = await store().readRecoveryCodes(ref);
    expect(stored?.codes.reveal()).toEqual(second.reveal());
    expect(stored?.metadata.count).toBe(8);
  });
}

function metadataAndDeletionCases({ account, store }: ContractCases): void {
  it('reports metadata with parameters, versions and counts, and no secret', async () => {
    const ref = account();
    const active = randomSeed();
    const pending = randomSeed({ algorithm: 'SHA512' });
    const codes = randomRecoveryCodes(6);
    await store().promotePendingSeed(ref, (await store().writePendingSeed(ref, active)).version);
    await store().writePendingSeed(ref, pending);
    await store().writeRecoveryCodes(ref, codes);

    const metadata = await store().readMetadata(ref);

    expect(metadata.active).toMatchObject({
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
      issuer: 'Demo',
      label: 'ops@example.com',
    });
    expect(metadata.pending).toMatchObject({ algorithm: 'SHA512' });
    expect(metadata.recoveryCodes?.count).toBe(6);
    expect(metadata.seedLocation).not.toBe('');
    const rendered = JSON.stringify(metadata);
    for (const value of [active.secret.reveal(), pending.secret.reveal(), ...codes.reveal()]) {
      expect(rendered).not.toContain(value);
    }
  });

  it('reports empty metadata for an account with nothing stored', async () => {
    const metadata = await store().readMetadata(account());
    expect(metadata).toMatchObject({ active: undefined, pending: undefined, recoveryCodes: undefined });
  });

  it('keeps accounts apart', async () => {
    const one = account();
    const other = account();
    await store().writePendingSeed(one, randomSeed());
    expect(await store().readPendingSeed(other)).toBeUndefined();
  });

  it('deletes seed and recovery codes, and deleting again is fine', async () => {
    const ref = account();
    await store().promotePendingSeed(ref, (await store().writePendingSeed(ref, randomSeed())).version);
    await store().writePendingSeed(ref, randomSeed());
    await store().writeRecoveryCodes(ref, randomRecoveryCodes());

    await store().delete(ref);
    await store().delete(ref);

    expect(await store().readActiveSeed(ref)).toBeUndefined();
    expect(await store().readPendingSeed(ref)).toBeUndefined();
    expect(await store().readRecoveryCodes(ref)).toBeUndefined();
  });
}

function secrecyCases({ account, store }: ContractCases): void {
  it('refuses unusable material without quoting it', async () => {
    const ref = account();
    const lowerCase = 'jbswy3dpehpk3pxpjbswy3dpehpk3pxp';
    const codeWithNewline = 'abc\ndef-secret-code';

    const seedError = await failureOf(
      store().writePendingSeed(ref, randomSeed({ secret: new SecretValue(lowerCase) })),
    );
    const codesError = await failureOf(store().writeRecoveryCodes(ref, new SecretValue([codeWithNewline])));

    expect(seedError).toMatchObject({ reason: 'InvalidMaterial', retryable: false });
    expect(codesError).toMatchObject({ reason: 'InvalidMaterial' });
    expect(renderedError(seedError)).not.toContain(lowerCase);
    expect(renderedError(codesError)).not.toContain('def-secret-code');
  });

  it('never puts stored values in error messages', async () => {
    const ref = account();
    const seed = randomSeed();
    const codes = randomRecoveryCodes();
    await store().writePendingSeed(ref, seed);
    await store().writeRecoveryCodes(ref, codes);

    const errors = [
      await failureOf(store().promotePendingSeed(ref, 'no-such-version')),
      await failureOf(store().writePendingSeed(ref, { ...seed, period: 0 })),
    ];

    for (const error of errors) {
      expect(isStoreError(error)).toBe(true);
      const rendered = renderedError(error);
      for (const value of [seed.secret.reveal(), ...codes.reveal()]) expect(rendered).not.toContain(value);
    }
  });

  it('returns secrets only as SecretValue, which prints redacted', async () => {
    const ref = account();
    await store().writePendingSeed(ref, randomSeed());
    await store().writeRecoveryCodes(ref, randomRecoveryCodes());

    const pending = await store().readPendingSeed(ref);
    const codes = await store().readRecoveryCodes(ref);

    expect(inspect(pending, { depth: 5 })).not.toMatch(/[A-Z2-7]{32}/);
    expect(JSON.stringify(codes)).toContain('[redacted]');
  });

  it('validates as ready with working credentials', async () => {
    expect(await store().validate()).toEqual({ ready: true });
  });
}
