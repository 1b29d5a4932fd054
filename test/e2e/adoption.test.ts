import { afterAll, beforeAll, describe, it } from 'vitest';
import { toOtpauthUri } from '../../core/totp/seed-text.ts';
import { randomRecoveryCodes, randomSeed } from '../stores/random-material.ts';
import { signInWithTotp } from '../support/demo-login.ts';
import { activeSeed, applyAccount, condition, getMfa, storedSlots } from '../support/e2e-accounts.ts';
import {
  capturedOutput,
  startE2eEnvironment,
  writeDebugDump,
  type E2eEnvironment,
} from '../support/e2e-environment.ts';
import { kubectlOk } from '../support/kubectl.ts';
import { waitFor } from '../support/wait.ts';

/**
 * spec.mfa.adoptFrom on the one-node cluster: a person turned MFA on in the demo app with their own authenticator
 * (the admin API plays them), and a run pod the operator starts proves the seed from a Secret by signing in with codes
 * the code service makes from it, before the operator becomes the account's authenticator.
 */

const NS = 'default';
let env: E2eEnvironment;
const secretsUsed: string[] = [];

beforeAll(async () => {
  env = await startE2eEnvironment();
}, 600_000);
afterAll(async () => {
  await writeDebugDump(env);
  await env?.stop();
});

/** The Secret the account's owner writes with the authenticator they have, labelled as the operator's to read. */
async function writeSource(name: string, data: Record<string, string>): Promise<void> {
  await kubectlOk(
    env.cp.kubeconfigPath,
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: NS, labels: { 'mfa-operator.io/credentials': 'true' } },
      stringData: data,
    }),
  );
}

/** An account whose MFA a person turned on with `seed`, and a ManagedAccountMfa adopting from `source`. */
async function personsAccount(
  name: string,
  seed: ReturnType<typeof randomSeed>,
  codes: readonly string[],
  source: object,
) {
  const account = await applyAccount(env, NS, name, {
    hazards: { mfaAlreadyOn: { seed: seed.secret.reveal(), recoveryCodes: [...codes] } },
    spec: { mfa: { state: 'Enabled', adoptFrom: source } },
  });
  secretsUsed.push(account.password, seed.secret.reveal(), ...codes);
  return account;
}

describe('adopting an authenticator a person already has, end to end', { timeout: 400_000 }, () => {
  describe.concurrent('accounts side by side', () => {
    it('proves the seed in a run pod, stores it and the codes, and signs in with it after the Secret is gone', async ({
      expect,
    }) => {
      const seed = randomSeed();
      const codes = randomRecoveryCodes(4).reveal();
      await writeSource('phone-seed', { otpauth: toOtpauthUri(seed).reveal(), codes: codes.join('\n') });
      const { email, password } = await personsAccount('adopted', seed, codes, {
        secretName: 'phone-seed',
        recoveryCodesKey: 'codes',
      });

      await kubectlOk(env.cp.kubeconfigPath, [
        'wait',
        '--for=condition=Ready',
        'mfa/adopted',
        '-n',
        NS,
        '--timeout=240s',
      ]);
      const mfa = await getMfa(env, NS, 'adopted');

      expect(mfa.status).toMatchObject({ mfaState: 'Enabled', recoveryCodes: { count: 4, remaining: 4 } });
      expect(mfa.status.history[0]).toMatchObject({ trigger: 'Adopt', outcome: 'Adopted' });
      expect(condition(mfa, 'SeedAdopted')).toMatchObject({
        status: 'True',
        message: expect.stringMatching(/Secret "phone-seed".*The Secret may be deleted/),
      });
      expect((await activeSeed(env, NS, 'adopted', secretsUsed)).secret.reveal()).toBe(seed.secret.reveal());
      const [job] = (mfa.status.history as { job?: string }[]).map((h) => h.job);
      const spec = await kubectlOk(env.cp.kubeconfigPath, ['get', 'job', job!, '-n', NS, '-o', 'json']);
      expect(spec, 'the run pod gets codes, never the seed').not.toContain(seed.secret.reveal());

      await kubectlOk(env.cp.kubeconfigPath, ['delete', 'secret', 'phone-seed', '-n', NS]);
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      const after = await getMfa(env, NS, 'adopted');
      expect(condition(after, 'Ready')?.status).toBe('True');
      expect(after.status.history[0].trigger, 'no run after the source went').toBe('Adopt');
      const page = await signInWithTotp(env.app.url, email, password, await activeSeed(env, NS, 'adopted', []));
      expect(page.path).toBe('/');
      expect((await env.app.accounts.status(email)).mfa).toMatchObject({ enabled: true, recoveryCodesRemaining: 4 });
    });

    it('refuses a seed the app does not take: nothing stored, the person keeps their authenticator', async ({
      expect,
    }) => {
      const held = randomSeed();
      const wrong = randomSeed();
      secretsUsed.push(wrong.secret.reveal());
      await writeSource('old-backup', { otpauth: wrong.secret.reveal() });
      const { email } = await personsAccount('refused', held, [], { secretName: 'old-backup' });

      const found = await waitFor(
        'the adoption of refused to be refused',
        async () => {
          const mfa = await getMfa(env, NS, 'refused');
          const refused = condition(mfa, 'AutomationSucceeded');
          // Settled: the harvest writes the run's message first, the next reconcile adds that no retry comes.
          return refused?.reason === 'AdoptionSeedRejected' && refused.message.includes('Secret changes')
            ? mfa
            : undefined;
        },
        240_000,
        1000,
      );

      expect(condition(found, 'AutomationSucceeded')).toMatchObject({
        status: 'False',
        message: expect.stringContaining("spec.mfa.adoptFrom's Secret changes"),
      });
      expect(condition(found, 'Ready')?.status).toBe('False');
      expect(await storedSlots(env, NS, 'refused'), 'the refused candidate left the store').toEqual({
        active: false,
        pending: false,
      });
      expect((await env.app.accounts.status(email)).mfa.enabled, "the person's authenticator is untouched").toBe(true);
    });
  });

  it('keeps every secret it used out of logs, Events, status, Jobs, Pods and termination messages', async ({
    expect,
  }) => {
    const captured = await capturedOutput(env);
    expect(secretsUsed.length).toBeGreaterThanOrEqual(8);
    expect(secretsUsed.filter((s) => captured.includes(s))).toEqual([]);
    expect(captured).toContain('Adopted');
  });
});
