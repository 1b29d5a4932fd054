import { afterAll, beforeAll, describe, it } from 'vitest';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import { signInWithTotp } from '../support/demo-login.ts';
import { activeSeed as sharedActiveSeed, applyAccount, condition, getMfa } from '../support/e2e-accounts.ts';
import {
  capturedOutput,
  startE2eEnvironment,
  writeDebugDump,
  type E2eEnvironment,
} from '../support/e2e-environment.ts';
import { kubectlOk } from '../support/kubectl.ts';
import { waitFor } from '../support/wait.ts';

/**
 * Verification on the one-node cluster with the demo app: the account's owner changes MFA in the app behind the
 * operator's back (the demo app's admin API plays the owner), a verify run asked for by annotation finds it, and
 * spec.mfa.onDrift decides what the operator does about it.
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

async function enrolled(
  name: string,
  spec: Record<string, unknown> = {},
): Promise<{ email: string; password: string; seed: TotpSeed }> {
  const account = await applyAccount(env, NS, name, { spec });
  secretsUsed.push(account.password);
  await kubectlOk(env.cp.kubeconfigPath, ['wait', '--for=condition=Ready', `mfa/${name}`, '-n', NS, '--timeout=240s']);
  return { ...account, seed: await activeSeed(name) };
}

const activeSeed = (name: string) => sharedActiveSeed(env, NS, name, secretsUsed);

/** Sets mfa-operator.io/verify to `value` and waits until status says the check it asked for was harvested. */
async function verifyNow(name: string, value: string): Promise<any> {
  await kubectlOk(env.cp.kubeconfigPath, [
    'annotate',
    'mfa',
    name,
    '-n',
    NS,
    `mfa-operator.io/verify=${value}`,
    '--overwrite',
  ]);
  return waitFor(
    `the check ${value} of ${name}`,
    async () => {
      const mfa = await getMfa(env, NS, name);
      return mfa.status?.verification?.requestedFor === value ? mfa : undefined;
    },
    240_000,
    1000,
  );
}

describe(
  "verification and drift end to end: the demo app changed behind the operator's back",
  { timeout: 400_000 },
  () => {
    describe.concurrent('accounts side by side', () => {
      it('MFA turned off: reported and left alone with onDrift Alert, turned on again with a fresh seed with Remediate', async ({
        expect,
      }) => {
        const {
          email,
          password,
          seed: before,
        } = await enrolled('drifted', { mfa: { state: 'Enabled', verify: { every: '24h' } } });
        await env.app.accounts.turnTotpOff(email);

        const found = await verifyNow('drifted', 'after-owner-change');

        expect(condition(found, 'MfaVerified')).toMatchObject({
          status: 'False',
          reason: 'MfaTurnedOff',
          message: expect.stringContaining('changes nothing on the app'),
        });
        expect(condition(found, 'Ready')).toMatchObject({ status: 'False', reason: 'MfaTurnedOff' });
        expect(found.status).toMatchObject({ mfaState: 'Disabled', verification: { drift: 'MfaTurnedOff' } });
        expect(found.status.history[0]).toMatchObject({
          trigger: 'VerifyRequested',
          outcome: 'Failed',
          reason: 'MfaTurnedOff',
        });
        expect(
          await kubectlOk(env.cp.kubeconfigPath, [
            'get',
            'events',
            '-n',
            NS,
            '--field-selector',
            'involvedObject.name=drifted',
          ]),
        ).toContain('MfaTurnedOff');
        await new Promise((r) => setTimeout(r, 5_000));
        expect((await env.app.accounts.status(email)).mfa.enabled, 'onDrift Alert changes nothing on the app').toBe(
          false,
        );
        expect((await getMfa(env, NS, 'drifted')).status.history[0].trigger).toBe('VerifyRequested');

        await kubectlOk(env.cp.kubeconfigPath, [
          'patch',
          'mfa',
          'drifted',
          '-n',
          NS,
          '--type=merge',
          '-p',
          '{"spec":{"mfa":{"onDrift":"Remediate"}}}',
        ]);
        const remediated = await waitFor(
          'remediated',
          async () => {
            const mfa = await getMfa(env, NS, 'drifted');
            return condition(mfa, 'Ready')?.status === 'True' && mfa.status?.mfaState === 'Enabled' ? mfa : undefined;
          },
          240_000,
          1000,
        );

        expect(remediated.status.history[0]).toMatchObject({ trigger: 'Remediate', outcome: 'Enabled' });
        expect(condition(remediated, 'MfaVerified')).toMatchObject({ status: 'True', reason: 'Enrolled' });
        expect(remediated.status.verification.drift).toBeUndefined();
        const after = await activeSeed('drifted');
        expect(after.secret.reveal()).not.toBe(before.secret.reveal());
        expect((await signInWithTotp(env.app.url, email, password, after)).path).toBe('/');
      });

      it('on request: a clean check is Verified, and a second authenticator added in the app is OtherMfaMethodAdded', async ({
        expect,
      }) => {
        const { email } = await enrolled('second-phone');

        const clean = await verifyNow('second-phone', 'first');
        expect(condition(clean, 'MfaVerified')).toMatchObject({ status: 'True', reason: 'Verified' });
        expect(clean.status.verification).toMatchObject({ lastVerifiedTime: expect.any(String), failures: 0 });
        expect(clean.status.history[0]).toMatchObject({ trigger: 'VerifyRequested', outcome: 'Verified' });

        await env.app.accounts.addAuthenticator(email);
        const drifted = await verifyNow('second-phone', 'second');
        expect(condition(drifted, 'MfaVerified')).toMatchObject({ status: 'False', reason: 'OtherMfaMethodAdded' });
        expect(drifted.status).toMatchObject({ mfaState: 'Enabled', verification: { drift: 'OtherMfaMethodAdded' } });
        expect(condition(drifted, 'Ready')?.status).toBe('False');
      });
    });

    it('keeps every secret it used out of logs, Events, status, Jobs, Pods and termination messages', async ({
      expect,
    }) => {
      const captured = await capturedOutput(env);
      expect(secretsUsed.length).toBeGreaterThanOrEqual(4);
      expect(secretsUsed.filter((s) => captured.includes(s))).toEqual([]);
      expect(captured).toContain('VerifyRequested');
    });
  },
);
