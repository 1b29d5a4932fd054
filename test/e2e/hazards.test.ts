import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HazardSettings } from '../apps/demo/hazards.ts';
import { startE2eEnvironment, type E2eEnvironment } from '../support/e2e-environment.ts';
import { kubectlOk } from '../support/kubectl.ts';
import { credentialsSecret, managedAccountMfa } from '../support/resources.ts';
import { waitFor } from '../support/wait.ts';

const NS = 'default';
let env: E2eEnvironment;

beforeAll(async () => {
  env = await startE2eEnvironment({ maxConcurrentRuns: 4, maxConcurrentRunsPerConnector: 4 });
}, 600_000);
afterAll(async () => env?.stop());

async function apply(name: string, hazards: HazardSettings): Promise<string> {
  const email = `${name}@demo.example`;
  await env.app.accounts.upsert({ email, password: `pw-${name}`, hazards });
  await kubectlOk(
    env.cp.kubeconfigPath,
    ['apply', '-f', '-'],
    credentialsSecret(`${name}-login`, NS, { username: email, password: `pw-${name}` }),
  );
  await kubectlOk(
    env.cp.kubeconfigPath,
    ['apply', '-f', '-'],
    managedAccountMfa(name, NS, {
      account: { loginUrl: `${env.app.url}/login`, credentialsSecretRef: { name: `${name}-login` }, ...env.accountTls },
    }),
  );
  return email;
}

async function automation(name: string): Promise<{ status: string; reason: string; message: string } | undefined> {
  const mfa = JSON.parse(await kubectlOk(env.cp.kubeconfigPath, ['get', 'mfa', name, '-n', NS, '-o', 'json']));
  return mfa.status?.conditions?.find((c: { type: string }) => c.type === 'AutomationSucceeded');
}

async function runsOf(name: string): Promise<number> {
  return JSON.parse(
    await kubectlOk(env.cp.kubeconfigPath, [
      'get',
      'jobs',
      '-n',
      NS,
      '-l',
      `mfa-operator.io/account=${name}`,
      '-o',
      'json',
    ]),
  ).items.length;
}

const PERMANENT: Array<[string, HazardSettings, string]> = [
  ['captcha', { captcha: true }, 'ChallengeRequired'],
  ['sms', { otherMfaMethod: true }, 'OtherMfaMethodEnabled'],
  ['already-on', { mfaAlreadyOn: { seed: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' } }, 'MfaAlreadyEnabled'],
];
const HANDLED: Array<[string, HazardSettings]> = [
  ['step-up', { stepUp: true }],
  ['qr-only', { qrOnly: true }],
  ['lower-grouped', { lowercaseGroupedKey: true }],
  ['svg-qr', { qrFormat: 'svg' }],
];

describe(
  'demo app hazards through the operator: the right reason, and the right retry behaviour',
  { timeout: 420_000 },
  () => {
    it('ends permanent hazards in their reason without retrying, and turns MFA on despite the hazards the automation handles', async () => {
      for (const [name, hazards] of [...PERMANENT.map(([n, h]) => [n, h] as const), ...HANDLED])
        await apply(name, hazards);
      for (const [name, , reason] of PERMANENT) {
        const condition = await waitFor(
          `${name}: ${reason}`,
          async () => {
            const c = await automation(name);
            return c?.reason === reason && /will not retry/.test(c.message) ? c : undefined;
          },
          300_000,
          1000,
        );
        expect(condition.status).toBe('False');
      }
      for (const [name] of HANDLED) {
        await kubectlOk(env.cp.kubeconfigPath, [
          'wait',
          '--for=condition=Ready',
          `mfa/${name}`,
          '-n',
          NS,
          '--timeout=300s',
        ]);
      }
      for (const [name] of PERMANENT) expect(await runsOf(name)).toBe(1);
    });

    it("backs off a rate-limited login for at least the app's Retry-After, then enrols once the app lets it in", async () => {
      const email = await apply('limited', { rateLimit: 20 });
      const limited = await waitFor(
        'RateLimited with a retry',
        async () => {
          const c = await automation('limited');
          return c?.reason === 'RateLimited' && /Retrying in \d+s/.test(c.message) ? c : undefined;
        },
        180_000,
        1000,
      );
      expect(Number(/Retrying in (\d+)s/.exec(limited.message)![1])).toBeGreaterThan(5);
      await env.app.accounts.setHazards(email, { rateLimit: 0 });
      await kubectlOk(env.cp.kubeconfigPath, [
        'wait',
        '--for=condition=Ready',
        'mfa/limited',
        '-n',
        NS,
        '--timeout=180s',
      ]);
      expect(await runsOf('limited')).toBe(2);
    });
  },
);
