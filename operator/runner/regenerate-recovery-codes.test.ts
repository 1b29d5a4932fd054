import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConnector } from '../../connectors/demo/connector.ts';
import type { Connector } from '../../connectors/sdk/connector.ts';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import { ConnectorRegistry } from '../../connectors/sdk/registry.ts';
import { DemoHttpClient } from '../../test/apps/demo/client/http-client.ts';
import { signIn } from '../../test/apps/demo/client/flows.ts';
import { InMemoryStore } from '../../test/automation/in-memory-store.ts';
import { codesSince, DemoRunFixture, expectNoSecrets, type DemoAccount } from '../../test/runner/demo-run-fixture.ts';
import { RunCodeService } from '../../test/runner/run-code-service.ts';
import { renderSummary } from '../run-contract/outcome.ts';
import type { AccountRef } from '../stores/provider.ts';

/** The demo connector without the optional method: an app the operator cannot regenerate codes on. */
const withoutRegenerate: Connector = { ...demoConnector };
delete withoutRegenerate.regenerateRecoveryCodes;
const unsupported = new ConnectorRegistry({ demo: () => Promise.resolve({ connector: withoutRegenerate }) });
/** A connector that regenerates but reads no codes back (a page it no longer matches). */
const readsNothing = new ConnectorRegistry({
  demo: () =>
    Promise.resolve({
      connector: {
        ...demoConnector,
        regenerateRecoveryCodes: () => Promise.resolve(new SecretValue<readonly string[]>([])),
      },
    }),
});

/** The action `regenerate` against the demo app in Chromium, signing in through the run endpoint's real handler. */
describe('a regenerate run', () => {
  let fixture: DemoRunFixture;
  let codes: RunCodeService;
  const store = new InMemoryStore();
  beforeAll(async () => {
    fixture = await DemoRunFixture.start();
    codes = await RunCodeService.start(fixture.dir, store);
  });
  afterAll(async () => {
    await codes?.stop();
    await fixture?.close();
  });

  /** An account the runner enrolled, with its seed and recovery codes in the store. */
  async function enrolled(): Promise<{ account: DemoAccount; ref: AccountRef; old: string[] }> {
    const account = await fixture.account({ stepUp: true });
    expect((await account.run()).outcome).toBe('Enabled');
    const ref = { namespace: 'default', name: 'acct', uid: randomUUID() };
    const seed = (await account.sink.readSeed())!.seed;
    await store.promotePendingSeed(ref, (await store.writePendingSeed(ref, seed)).version);
    const old = [...(await account.sink.readRecoveryCodes())!.reveal()];
    await store.writeRecoveryCodes(ref, (await account.sink.readRecoveryCodes())!);
    return { account, ref, old };
  }

  /** A person's sign-in with a recovery code, over HTTP: whether the app let them in. */
  async function recoveryCodeSignsIn(account: DemoAccount, code: string): Promise<boolean> {
    const client = new DemoHttpClient(fixture.app.url);
    const prompt = await signIn(client, account.email, account.password);
    const page = await client.submit(prompt, '/login/recovery', { recovery_code: code });
    return page.status === 200 && page.path === '/';
  }

  it('stores the new set as soon as it is read: old codes are refused by the app, a new one signs in', async () => {
    const { account, ref, old } = await enrolled();
    const startedAt = Date.now();

    const summary = await account.run({
      action: 'regenerate',
      codeService: await codes.run(ref, 'regen-1', 'regenerate'),
    });

    expect(summary).toMatchObject({ outcome: 'RecoveryCodesRegenerated', recoveryCodeCount: 10 });
    expect(summary.steps.map((s) => s.name)).toEqual([
      'resolveLoginUrl',
      'readCredentials',
      'login',
      'regenerateRecoveryCodes',
      'storeRecoveryCodes',
    ]);
    const fresh = [...(await account.sink.readRecoveryCodes())!.reveal()];
    expect(fresh).toHaveLength(10);
    expect(fresh.filter((code) => old.includes(code))).toEqual([]);
    // Signing in uses no recovery code: the run got in with the stored seed.
    expect(codes.usedRecoveryCodes(ref)).toEqual([]);
    expect(await recoveryCodeSignsIn(account, old[1]!)).toBe(false);
    expect(await recoveryCodeSignsIn(account, fresh[0]!)).toBe(true);
    expectNoSecrets([renderSummary(summary), ...account.logLines, ...codes.lines], {
      strings: [account.password, ...old, ...fresh],
      codes: codesSince((await account.sink.readSeed())!.seed, startedAt),
    });
  }, 180_000);

  it('with a connector that cannot regenerate, fails for good before asking for a code or signing in', async () => {
    const { account, ref, old } = await enrolled();

    const summary = await account.run(
      { action: 'regenerate', codeService: await codes.run(ref, 'regen-unsupported-1', 'regenerate') },
      undefined,
      { connectors: unsupported },
    );

    expect(summary).toMatchObject({
      outcome: 'Failed',
      reason: 'RecoveryCodesRegenerationUnsupported',
      retryable: false,
    });
    expect(summary.message).toContain('cannot regenerate recovery codes');
    expect(summary.steps.map((s) => s.name)).not.toContain('login');
    expect(codes.auditRecords().filter((r) => r.job === 'regen-unsupported-1')).toEqual([]);
    expect((await account.sink.readRecoveryCodes())!.reveal()).toEqual(old);
    expect(fixture.app.accounts.status(account.email).mfa.recoveryCodesRemaining).toBe(10);
  }, 180_000);

  it('on an account whose MFA was turned off behind its back, fails with MfaTurnedOff and stores nothing new', async () => {
    const { account, ref, old } = await enrolled();
    await fetch(`${fixture.app.url}/__admin/accounts/${encodeURIComponent(account.email)}/totp/off`, {
      method: 'POST',
    });

    const summary = await account.run({
      action: 'regenerate',
      codeService: await codes.run(ref, 'regen-off-1', 'regenerate'),
    });

    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'MfaTurnedOff', retryable: false });
    expect((await account.sink.readRecoveryCodes())!.reveal()).toEqual(old);
  }, 180_000);

  it('refuses to store an empty set: ConnectorOutdated, and the stored codes stay as they were', async () => {
    const { account, ref, old } = await enrolled();

    const summary = await account.run(
      { action: 'regenerate', codeService: await codes.run(ref, 'regen-empty-1', 'regenerate') },
      undefined,
      { connectors: readsNothing },
    );

    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'ConnectorOutdated', retryable: false });
    expect(summary.steps.map((s) => s.name)).not.toContain('storeRecoveryCodes');
    expect((await account.sink.readRecoveryCodes())!.reveal()).toEqual(old);
  }, 180_000);
});
