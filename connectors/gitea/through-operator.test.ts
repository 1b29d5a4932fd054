import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../sdk/browser.ts';
import { startGitea, type GiteaServer } from '../../test/apps/gitea/server.ts';
import { signInByHand as signInAt, type SecondStep } from '../../test/apps/gitea/sign-in-by-hand.ts';
import { NETWORK } from '../../test/cluster/network-plan.ts';
import { AppThroughOperator } from '../../test/support/app-through-operator.ts';
import { condition } from '../../test/support/e2e-accounts.ts';
import { capturedOutput, startE2eEnvironment, type E2eEnvironment } from '../../test/support/e2e-environment.ts';
import { kubectl, kubectlOk } from '../../test/support/kubectl.ts';
import { waitFor } from '../../test/support/wait.ts';
import { allowedLoginHostsEnv } from '../sdk/deployment-hosts.ts';

/**
 * The gitea connector through the whole product: the one-node cluster, the operator under its RBAC
 * and its run Jobs as pods, the Gitea test instance (on this host, reached by the pods through an
 * HTTPS front on the node address, from a throwaway CA the resources name), Chromium. What a user
 * does: kubectl apply, kubectl mfa code, a rotation annotation, spec.mfa.state Disabled, kubectl delete.
 */

const NS = 'default';
let env: E2eEnvironment;
let site: GiteaServer;
let browser: Browser;
let app: AppThroughOperator;

beforeAll(async () => {
  // The cluster admin's list: the controller copies it into gitea run Jobs (connectorSettingsEnv).
  process.env[allowedLoginHostsEnv('gitea')] = NETWORK.nodeAddress;
  [env, site, browser] = await Promise.all([startE2eEnvironment(), startGitea(), launchBrowser()]);
  app = await AppThroughOperator.start(env, 'gitea', site);
}, 600_000);

afterAll(async () => {
  await app?.stop();
  await browser?.close();
  await env?.stop();
  await site?.stop();
});

function signInByHand(username: string, password: string, second: SecondStep): Promise<string | undefined> {
  return signInAt(browser, site.url, username, password, second);
}

describe(
  'gitea through the operator: real API server, operator under its RBAC, Jobs, Chromium, a Gitea instance',
  { timeout: 400_000 },
  () => {
    const username = 'shared-admin';
    const password = `pw-${Math.random().toString(36).slice(2)}`;

    it('turns MFA on: kubectl apply, then Ready, seed and recovery codes stored, and a code from kubectl mfa code signs in', async () => {
      await site.createUser(username, password);
      await app.applyAccount('site', username, password);

      await kubectlOk(env.cp.kubeconfigPath, ['wait', '--for=condition=Ready', 'mfa/site', '-n', NS, '--timeout=300s']);

      const mfa = await app.getMfa('site');
      expect(mfa.status.mfaState).toBe('Enabled');
      expect(mfa.status.totp).toMatchObject({ algorithm: 'SHA1', digits: 6, period: 30 });
      expect(mfa.status.recoveryCodes.count).toBe(1);
      expect(mfa.status.history[0]).toMatchObject({ outcome: 'Enabled' });
      expect(await site.twoFactor(username)).toEqual({ totp: true, securityKeys: 0 });
      await app.activeSeed('site');
      expect(
        await app.signInWithCodeFrom(
          () => app.kubectlMfaCode('site'),
          (code) => signInByHand(username, password, { code }),
        ),
      ).toBe(username);
      const [job] = JSON.parse(
        await kubectlOk(env.cp.kubeconfigPath, [
          'get',
          'jobs',
          '-n',
          NS,
          '-l',
          'mfa-operator.io/account=site',
          '-o',
          'json',
        ]),
      ).items;
      expect(job.spec.template.spec.containers[0].env).toContainEqual({
        name: allowedLoginHostsEnv('gitea'),
        value: NETWORK.nodeAddress,
      });
    });

    it('lets the stored recovery key sign in once', async () => {
      const mfa = await app.getMfa('site');
      const codes =
        (await app.store.readRecoveryCodes({ namespace: NS, name: 'site', uid: mfa.metadata.uid }))?.codes.reveal() ??
        [];
      app.secretsUsed.push(...codes);

      expect(codes).toHaveLength(1);
      expect(await signInByHand(username, password, { recoveryKey: codes[0]! })).toBe(username);
      expect(await signInByHand(username, password, { recoveryKey: codes[0]! })).toBeUndefined();
      expect(await site.twoFactor(username)).toEqual({ totp: true, securityKeys: 0 });
    });

    it('reports MfaAlreadyEnabled for a second resource on the same account, which has no seed stored', async () => {
      await app.applyAccount('site-again', username, password);

      const failed = await waitFor(
        'MfaAlreadyEnabled',
        async () => {
          const mfa = await app.getMfa('site-again');
          return condition(mfa, 'Ready')?.reason === 'MfaAlreadyEnabled' ? mfa : undefined;
        },
        300_000,
        1000,
      );

      expect(condition(failed, 'Ready').status).toBe('False');
      await kubectlOk(env.cp.kubeconfigPath, ['delete', 'mfa', 'site-again', '-n', NS, '--timeout=60s']);
    });

    it('rotates the seed when mfa-operator.io/rotate changes: Gitea re-enrols, and the new seed signs in', async () => {
      const before = await app.activeSeed('site');

      await kubectlOk(env.cp.kubeconfigPath, [
        'annotate',
        'mfa',
        'site',
        '-n',
        NS,
        'mfa-operator.io/rotate=2026-12-02',
      ]);
      const rotated = await waitFor(
        'rotation recorded',
        async () => {
          const mfa = await app.getMfa('site');
          return mfa.status?.totp?.rotatedFor === '2026-12-02' && condition(mfa, 'Ready')?.status === 'True'
            ? mfa
            : undefined;
        },
        300_000,
        1000,
      );

      expect(rotated.status.history[0]).toMatchObject({ trigger: 'Rotate', outcome: 'Enabled' });
      const after = await app.activeSeed('site');
      expect(after.secret.reveal()).not.toBe(before.secret.reveal());
      expect(await site.twoFactor(username)).toEqual({ totp: true, securityKeys: 0 });
      expect(
        await app.signInWithCodeFrom(
          () => app.kubectlMfaCode('site'),
          (code) => signInByHand(username, password, { code }),
        ),
      ).toBe(username);
    });

    it('turns MFA off when spec.mfa.state becomes Disabled, then kubectl delete lets the resource go', async () => {
      await kubectlOk(env.cp.kubeconfigPath, [
        'patch',
        'mfa',
        'site',
        '-n',
        NS,
        '--type=merge',
        '-p',
        '{"spec":{"mfa":{"state":"Disabled"}}}',
      ]);
      await waitFor('MFA off', async () => (await app.getMfa('site')).status?.mfaState === 'Disabled', 300_000, 1000);
      await kubectlOk(env.cp.kubeconfigPath, ['wait', '--for=condition=Ready', 'mfa/site', '-n', NS, '--timeout=60s']);
      expect(await site.twoFactor(username)).toEqual({ totp: false, securityKeys: 0 });

      await kubectlOk(env.cp.kubeconfigPath, ['delete', 'mfa', 'site', '-n', NS, '--timeout=60s']);

      expect((await kubectl(env.cp.kubeconfigPath, ['get', 'mfa', 'site', '-n', NS])).stderr).toMatch(/NotFound/);
      expect(await site.twoFactor(username)).toEqual({ totp: false, securityKeys: 0 });
    });

    it('reports a wrong password as InvalidCredentials without retrying', async () => {
      await site.createUser('typo', 'the-real-password');
      await app.applyAccount('typo', 'typo', 'not-the-password');

      const failed = await waitFor(
        'InvalidCredentials, not retried',
        async () => {
          const mfa = await app.getMfa('typo');
          return /will not retry/.test(condition(mfa, 'AutomationSucceeded')?.message ?? '') ? mfa : undefined;
        },
        300_000,
        1000,
      );

      expect(condition(failed, 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidCredentials' });
      expect(await site.twoFactor('typo')).toEqual({ totp: false, securityKeys: 0 });
    });

    it('keeps every secret it used out of logs, Events, status, Jobs, Pods and termination messages', async () => {
      const captured = await capturedOutput(env);

      // The password, the seeds before and after the rotation and Gitea's one recovery key (allauth's ten codes
      // made the copied count of more than ten, which Gitea can never reach).
      expect(app.secretsUsed).toContain(password);
      expect(new Set(app.secretsUsed).size).toBeGreaterThanOrEqual(4);
      expect(app.secretsUsed.filter((secret) => captured.includes(secret))).toEqual([]);
      expect(captured).toContain('JobCreated');
    });
  },
);
