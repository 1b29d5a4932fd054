import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../sdk/browser.ts';
import { startDjangoTwoFactor, type DjangoTwoFactorServer } from '../../test/apps/django-two-factor/server.ts';
import { signInByHand } from '../../test/apps/django-two-factor/sign-in-by-hand.ts';
import { NETWORK } from '../../test/cluster/network-plan.ts';
import { AppThroughOperator } from '../../test/support/app-through-operator.ts';
import { condition } from '../../test/support/e2e-accounts.ts';
import { capturedOutput, startE2eEnvironment, type E2eEnvironment } from '../../test/support/e2e-environment.ts';
import { kubectl, kubectlOk } from '../../test/support/kubectl.ts';
import { waitFor } from '../../test/support/wait.ts';
import { allowedLoginHostsEnv } from '../sdk/deployment-hosts.ts';

/**
 * The django-two-factor connector through the whole product: the one-node cluster, the operator under its
 * RBAC and its run Jobs as pods, the django-two-factor-auth test site (on this host, reached by the pods
 * through an HTTPS front on the node address), Chromium. What a user does: kubectl apply, kubectl mfa code, a
 * backup token, a rotation and a verification asked for by annotation, spec.mfa.state Disabled, kubectl delete.
 */

const NS = 'default';
let env: E2eEnvironment;
let site: DjangoTwoFactorServer;
let browser: Browser;
let app: AppThroughOperator;

beforeAll(async () => {
  process.env[allowedLoginHostsEnv('django-two-factor')] = NETWORK.nodeAddress;
  [env, site, browser] = await Promise.all([
    startE2eEnvironment(),
    startDjangoTwoFactor({ extraHosts: [NETWORK.nodeAddress] }),
    launchBrowser(),
  ]);
  app = await AppThroughOperator.start(env, 'django-two-factor', site);
}, 600_000);

afterAll(async () => {
  await app?.stop();
  await browser?.close();
  await env?.stop();
  await site?.stop();
});

describe(
  'django-two-factor through the operator: real API server, operator under its RBAC, Jobs, Chromium, the site',
  { timeout: 400_000 },
  () => {
    const username = 'shared-ops';
    const password = `pw-${Math.random().toString(36).slice(2)}`;

    it('turns MFA on: kubectl apply, then Ready, seed and ten backup tokens stored, and a code from kubectl mfa code signs in', async () => {
      await site.createUser(username, password);
      await app.applyAccount('ops', username, password);

      await kubectlOk(env.cp.kubeconfigPath, ['wait', '--for=condition=Ready', 'mfa/ops', '-n', NS, '--timeout=300s']);

      const mfa = await app.getMfa('ops');
      expect(mfa.status).toMatchObject({
        mfaState: 'Enabled',
        totp: { algorithm: 'SHA1', digits: 6, period: 30 },
        recoveryCodes: { count: 10 },
      });
      expect(await site.devices(username)).toEqual({ totp: 1, backupTokens: 10, other: [] });
      await app.activeSeed('ops');
      const tokens = await app.store.readRecoveryCodes({ namespace: NS, name: 'ops', uid: mfa.metadata.uid });
      app.secretsUsed.push(...(tokens?.codes.reveal() ?? []));
      expect(tokens?.codes.reveal()).toHaveLength(10);
      const signIn = (code: string) => signInByHand(browser, site.loginUrl, username, password, { code });
      expect(await app.signInWithCodeFrom(() => app.kubectlMfaCode('ops'), signIn)).toBe(username);
    });

    it('lets one stored backup token sign in once, which the site then spends', async () => {
      const mfa = await app.getMfa('ops');
      const tokens =
        (await app.store.readRecoveryCodes({ namespace: NS, name: 'ops', uid: mfa.metadata.uid }))?.codes.reveal() ??
        [];

      expect(await signInByHand(browser, site.loginUrl, username, password, { backupToken: tokens[0]! })).toBe(
        username,
      );
      expect(
        await signInByHand(browser, site.loginUrl, username, password, { backupToken: tokens[0]! }),
      ).toBeUndefined();
      expect(await site.devices(username)).toEqual({ totp: 1, backupTokens: 9, other: [] });
    });

    it('rotates the seed when mfa-operator.io/rotate changes: disable, enrol again, and the new seed signs in', async () => {
      const before = await app.activeSeed('ops');

      await kubectlOk(env.cp.kubeconfigPath, ['annotate', 'mfa', 'ops', '-n', NS, 'mfa-operator.io/rotate=2026-12-03']);
      const rotated = await waitFor(
        'rotation recorded',
        async () => {
          const mfa = await app.getMfa('ops');
          return mfa.status?.totp?.rotatedFor === '2026-12-03' && condition(mfa, 'Ready')?.status === 'True'
            ? mfa
            : undefined;
        },
        300_000,
        1000,
      );

      expect(rotated.status.history[0]).toMatchObject({ trigger: 'Rotate', outcome: 'Enabled' });
      const after = await app.activeSeed('ops');
      expect(after.secret.reveal()).not.toBe(before.secret.reveal());
      const tokens = await app.store.readRecoveryCodes({ namespace: NS, name: 'ops', uid: rotated.metadata.uid });
      app.secretsUsed.push(...(tokens?.codes.reveal() ?? []));
      expect(await site.devices(username)).toEqual({ totp: 1, backupTokens: 10, other: [] });
      const signIn = (code: string) => signInByHand(browser, site.loginUrl, username, password, { code });
      expect(await app.signInWithCodeFrom(() => app.kubectlMfaCode('ops'), signIn)).toBe(username);
    });

    it('verifies on request: a verify Job signs in with a code from the stored seed and reports Verified', async () => {
      await kubectlOk(env.cp.kubeconfigPath, ['annotate', 'mfa', 'ops', '-n', NS, 'mfa-operator.io/verify=first']);

      const verified = await waitFor(
        'the requested check',
        async () => {
          const mfa = await app.getMfa('ops');
          return mfa.status?.verification?.requestedFor === 'first' ? mfa : undefined;
        },
        300_000,
        1000,
      );

      expect(condition(verified, 'MfaVerified')).toMatchObject({ status: 'True', reason: 'Verified' });
      expect(verified.status.history[0]).toMatchObject({ trigger: 'VerifyRequested', outcome: 'Verified' });
      expect(await site.devices(username)).toEqual({ totp: 1, backupTokens: 10, other: [] });
    });

    it('turns MFA off when spec.mfa.state becomes Disabled, then kubectl delete lets the resource go', async () => {
      await kubectlOk(env.cp.kubeconfigPath, [
        'patch',
        'mfa',
        'ops',
        '-n',
        NS,
        '--type=merge',
        '-p',
        '{"spec":{"mfa":{"state":"Disabled"}}}',
      ]);
      await waitFor('MFA off', async () => (await app.getMfa('ops')).status?.mfaState === 'Disabled', 300_000, 1000);
      await kubectlOk(env.cp.kubeconfigPath, ['wait', '--for=condition=Ready', 'mfa/ops', '-n', NS, '--timeout=60s']);
      expect(await site.devices(username)).toEqual({ totp: 0, backupTokens: 0, other: [] });

      await kubectlOk(env.cp.kubeconfigPath, ['delete', 'mfa', 'ops', '-n', NS, '--timeout=60s']);

      expect((await kubectl(env.cp.kubeconfigPath, ['get', 'mfa', 'ops', '-n', NS])).stderr).toMatch(/NotFound/);
    });

    it('keeps every secret it used out of logs, Events, status, Jobs, Pods and termination messages', async () => {
      const captured = await capturedOutput(env);

      expect(app.secretsUsed.length).toBeGreaterThan(10);
      expect(app.secretsUsed.filter((secret) => captured.includes(secret))).toEqual([]);
      expect(captured).toContain('JobCreated');
    });
  },
);
