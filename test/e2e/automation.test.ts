import { KubeConfig } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { KubernetesSecretStore } from '../../operator/stores/kubernetes/kubernetes-secret-store.ts';
import { REPO } from '../support/cluster.ts';
import { signInWithTotp } from '../support/demo-login.ts';
import { activeSeed as activeSeedOf, condition, getMfa as getMfaOf } from '../support/e2e-accounts.ts';
import {
  capturedOutput,
  operatorApiUse,
  startE2eEnvironment,
  writeDebugDump,
  type E2eEnvironment,
} from '../support/e2e-environment.ts';
import { kubectl, kubectlOk } from '../support/kubectl.ts';
import { credentialsSecret, managedAccountMfa } from '../support/resources.ts';
import { waitFor } from '../support/wait.ts';

const NS = 'default';
let env: E2eEnvironment;
let store: KubernetesSecretStore;
const secretsUsed: string[] = [];

beforeAll(async () => {
  env = await startE2eEnvironment();
  const kc = new KubeConfig();
  kc.loadFromFile(env.cp.kubeconfigPath);
  store = new KubernetesSecretStore(kc);
}, 600_000);
afterAll(async () => {
  await writeDebugDump(env);
  await env?.stop();
});

const getMfa = (name: string) => getMfaOf(env, NS, name);
const activeSeed = (name: string) => activeSeedOf(env, NS, name, secretsUsed);

/** A demo-app account and the resources a user applies for it. */
async function applyAccount(
  name: string,
  spec: Record<string, unknown> = {},
  password = `pw-${name}-${Math.random().toString(36).slice(2)}`,
): Promise<{ email: string; password: string }> {
  const email = `${name}@demo.example`;
  await env.app.accounts.upsert({ email, password });
  secretsUsed.push(password);
  await kubectlOk(
    env.cp.kubeconfigPath,
    ['apply', '-f', '-'],
    credentialsSecret(`${name}-login`, NS, { username: email, password }),
  );
  await kubectlOk(
    env.cp.kubeconfigPath,
    ['apply', '-f', '-'],
    managedAccountMfa(name, NS, {
      account: {
        displayName: name,
        loginUrl: `${env.app.url}/login`,
        credentialsSecretRef: { name: `${name}-login` },
        ...env.accountTls,
      },
      ...spec,
    }),
  );
  return { email, password };
}

describe(
  'ManagedAccountMfa end to end: a one-node cluster, the operator under its RBAC, run Jobs as pods of the image, the demo app in a pod',
  // Some tests wait for two runs in a row (enrol, then rotate or disable), up to 240 s each while the side-by-side
  // accounts queue behind the per-connector limit: the test's own limit must not be shorter than its waits.
  { timeout: 540_000 },
  () => {
    // Each account here is its own: these run side by side, so their Jobs overlap on the node as a user's would (the
    // operator's maxConcurrentRunsPerConnector, 2, queues the rest), and the file waits for the slowest rather than for
    // the sum. What reads another test's account, and the scans of everything, run after them.
    describe.concurrent('accounts side by side', () => {
      it('turns MFA on: kubectl apply, then Ready, seed and recovery codes stored, and a generated code signs in', async ({
        expect,
      }) => {
        const { email, password } = await applyAccount('brand');
        await kubectlOk(env.cp.kubeconfigPath, [
          'wait',
          '--for=condition=Ready',
          'mfa/brand',
          '-n',
          NS,
          '--timeout=240s',
        ]);
        const mfa = await getMfa('brand');
        expect(mfa.status.mfaState).toBe('Enabled');
        expect(mfa.status.totp).toMatchObject({
          algorithm: 'SHA1',
          digits: 6,
          period: 30,
          store: { storeKind: 'Default', provider: 'kubernetes', name: 'brand-mfa-seed' },
        });
        expect(mfa.status.recoveryCodes.count).toBe(10);
        expect(mfa.status.history[0]).toMatchObject({ trigger: 'SpecChanged', outcome: 'Enabled', reason: 'Enabled' });
        for (const type of [
          'CredentialsValid',
          'AutomationSucceeded',
          'MfaEnabled',
          'SeedStored',
          'RecoveryCodesStored',
        ])
          expect(condition(mfa, type).status).toBe('True');
        expect((await env.app.accounts.status(email)).mfa.enabled).toBe(true);

        const codes = await store.readRecoveryCodes({ namespace: NS, name: 'brand', uid: mfa.metadata.uid });
        secretsUsed.push(...(codes?.codes.reveal() ?? []));
        const page = await signInWithTotp(env.app.url, email, password, await activeSeed('brand'));
        expect(page.path).toBe('/');

        const describe = await kubectlOk(env.cp.kubeconfigPath, ['describe', 'mfa', 'brand', '-n', NS]);
        for (const reason of ['JobCreated', 'MfaEnabled', 'SeedStored']) expect(describe).toContain(reason);
        // The run's result Secret and identity are gone once the material is in the store; the Job stays as the record.
        const leftovers = await kubectl(env.cp.kubeconfigPath, ['get', 'secret', mfa.status.history[0].job, '-n', NS]);
        expect(leftovers.stderr).toMatch(/NotFound/);
      });
      it('reports a wrong password as InvalidCredentials without retrying, and recovers once the Secret is fixed', async ({
        expect,
      }) => {
        const { email } = await applyAccount('typo', {}, 'not-the-password');
        await env.app.accounts.upsert({ email, password: 'the-real-password-1' });
        secretsUsed.push('the-real-password-1');
        const failed = await waitFor(
          'InvalidCredentials, not retried',
          async () => {
            const mfa = await getMfa('typo');
            return /will not retry/.test(condition(mfa, 'AutomationSucceeded')?.message ?? '') ? mfa : undefined;
          },
          180_000,
          1000,
        );
        expect(condition(failed, 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidCredentials' });
        expect(condition(failed, 'AutomationSucceeded').message).toMatch(
          /will not retry until the spec, the credentials Secret or the CA bundle ConfigMap changes/,
        );
        await new Promise((r) => setTimeout(r, 5_000));
        const jobs = JSON.parse(
          await kubectlOk(env.cp.kubeconfigPath, [
            'get',
            'jobs',
            '-n',
            NS,
            '-l',
            `mfa-operator.io/account=typo`,
            '-o',
            'json',
          ]),
        ).items;
        expect(jobs).toHaveLength(1);

        await kubectlOk(
          env.cp.kubeconfigPath,
          ['apply', '-f', '-'],
          credentialsSecret('typo-login', NS, { username: email, password: 'the-real-password-1' }),
        );
        await kubectlOk(env.cp.kubeconfigPath, [
          'wait',
          '--for=condition=Ready',
          'mfa/typo',
          '-n',
          NS,
          '--timeout=240s',
        ]);
        expect((await getMfa('typo')).status.history.map((h: any) => h.outcome)).toEqual(['Enabled', 'Failed']);
      });
      it('turns MFA off when spec.mfa.state becomes Disabled, deletes the stored seed, and re-enrols with a fresh seed when it is Enabled again', async ({
        expect,
      }) => {
        const { email, password } = await applyAccount('offboard');
        await kubectlOk(env.cp.kubeconfigPath, [
          'wait',
          '--for=condition=Ready',
          'mfa/offboard',
          '-n',
          NS,
          '--timeout=240s',
        ]);
        await activeSeed('offboard');
        await kubectlOk(env.cp.kubeconfigPath, [
          'patch',
          'mfa',
          'offboard',
          '-n',
          NS,
          '--type=merge',
          '-p',
          '{"spec":{"mfa":{"state":"Disabled"}}}',
        ]);
        await waitFor('MFA off', async () => (await getMfa('offboard')).status?.mfaState === 'Disabled', 240_000, 1000);
        await kubectlOk(env.cp.kubeconfigPath, [
          'wait',
          '--for=condition=Ready',
          'mfa/offboard',
          '-n',
          NS,
          '--timeout=60s',
        ]);
        expect((await env.app.accounts.status(email)).mfa.enabled).toBe(false);
        const mfa = await getMfa('offboard');
        expect(await store.readActiveSeed({ namespace: NS, name: 'offboard', uid: mfa.metadata.uid })).toBeUndefined();
        expect(mfa.status.totp).toBeUndefined();

        await kubectlOk(env.cp.kubeconfigPath, [
          'patch',
          'mfa',
          'offboard',
          '-n',
          NS,
          '--type=merge',
          '-p',
          '{"spec":{"mfa":{"state":"Enabled"}}}',
        ]);
        await waitFor(
          'MFA back on',
          async () => (await getMfa('offboard')).status?.mfaState === 'Enabled',
          240_000,
          1000,
        );
        await kubectlOk(env.cp.kubeconfigPath, [
          'wait',
          '--for=condition=Ready',
          'mfa/offboard',
          '-n',
          NS,
          '--timeout=60s',
        ]);
        expect((await env.app.accounts.status(email)).mfa.enabled).toBe(true);
        expect((await signInWithTotp(env.app.url, email, password, await activeSeed('offboard'))).path).toBe('/');
      });
      it('rotates the seed when mfa-operator.io/rotate changes: the new seed is stored and signs in, the old one no longer does', async ({
        expect,
      }) => {
        const { email, password } = await applyAccount('rotating');
        await kubectlOk(env.cp.kubeconfigPath, [
          'wait',
          '--for=condition=Ready',
          'mfa/rotating',
          '-n',
          NS,
          '--timeout=240s',
        ]);
        const before = await activeSeed('rotating');
        await kubectlOk(env.cp.kubeconfigPath, [
          'annotate',
          'mfa',
          'rotating',
          '-n',
          NS,
          'mfa-operator.io/rotate=2026-11-28',
        ]);
        const rotated = await waitFor(
          'rotation recorded',
          async () => {
            const mfa = await getMfa('rotating');
            return mfa.status?.totp?.rotatedFor === '2026-11-28' && condition(mfa, 'Ready')?.status === 'True'
              ? mfa
              : undefined;
          },
          240_000,
          1000,
        );
        expect(rotated.status.history[0]).toMatchObject({ trigger: 'Rotate', outcome: 'Enabled' });
        const after = await activeSeed('rotating');
        expect(after.secret.reveal()).not.toBe(before.secret.reveal());
        expect((await signInWithTotp(env.app.url, email, password, after)).path).toBe('/');
        expect((await signInWithTotp(env.app.url, email, password, before)).path).toBe('/login/two-factor');
      });
      it('with deletionPolicy Disable, turns MFA off on the app before letting the resource go', async ({ expect }) => {
        const { email } = await applyAccount('leaver', { deletionPolicy: 'Disable' });
        await kubectlOk(env.cp.kubeconfigPath, [
          'wait',
          '--for=condition=Ready',
          'mfa/leaver',
          '-n',
          NS,
          '--timeout=240s',
        ]);
        await activeSeed('leaver');
        await kubectlOk(env.cp.kubeconfigPath, ['delete', 'mfa', 'leaver', '-n', NS, '--wait=false']);
        await waitFor(
          'resource gone',
          async () =>
            (await kubectl(env.cp.kubeconfigPath, ['get', 'mfa', 'leaver', '-n', NS])).stderr.includes('NotFound'),
          240_000,
          1000,
        );
        expect((await env.app.accounts.status(email)).mfa.enabled).toBe(false);
      });
      it('reports stores as Ready in their status, and stores a seed through a ClusterMfaSecretStore the namespace may use', async ({
        expect,
      }) => {
        const admin = env.cp.kubeconfigPath;
        await kubectlOk(
          admin,
          ['apply', '-f', '-'],
          'apiVersion: mfa-operator.io/v1alpha1\nkind: MfaSecretStore\nmetadata: {name: team, namespace: default}\nspec: {provider: {kubernetes: {}}}\n',
        );
        await kubectlOk(
          admin,
          ['apply', '-f', '-'],
          'apiVersion: mfa-operator.io/v1alpha1\nkind: ClusterMfaSecretStore\nmetadata: {name: shared}\nspec: {provider: {kubernetes: {}}, conditions: {namespaces: [default]}}\n',
        );
        await kubectlOk(admin, ['wait', '--for=condition=Ready', 'mfasecretstore/team', '-n', NS, '--timeout=60s']);
        await kubectlOk(admin, ['wait', '--for=condition=Ready', 'clustermfasecretstore/shared', '--timeout=60s']);
        expect(await kubectlOk(admin, ['get', 'clustermfasecretstore', 'shared'])).toMatch(
          /shared\s+kubernetes\s+True\s+Valid/,
        );
        await applyAccount('shared-store', { secretStoreRef: { kind: 'ClusterMfaSecretStore', name: 'shared' } });
        await kubectlOk(admin, ['wait', '--for=condition=Ready', 'mfa/shared-store', '-n', NS, '--timeout=240s']);
        expect((await getMfa('shared-store')).status.totp.store).toMatchObject({
          storeKind: 'ClusterMfaSecretStore',
          storeName: 'shared',
          provider: 'kubernetes',
        });
        await activeSeed('shared-store');
      });
    });

    it('re-validates a changed credentials Secret without enrolling again, and deletion with Retain keeps MFA on and the seed', async () => {
      const admin = env.cp.kubeconfigPath;
      const jobsOf = async () =>
        JSON.parse(
          await kubectlOk(admin, ['get', 'jobs', '-n', NS, '-l', 'mfa-operator.io/account=brand', '-o', 'json']),
        ).items.length;
      const jobsBefore = await jobsOf();
      const seed = await activeSeed('brand');
      await kubectlOk(admin, ['label', 'secret', 'brand-login', '-n', NS, 'rotated-by=e2e']);
      await kubectlOk(admin, [
        'patch',
        'secret',
        'brand-login',
        '-n',
        NS,
        '--type=merge',
        '-p',
        JSON.stringify({ data: { note: Buffer.from('changed').toString('base64') } }),
      ]);
      await new Promise((r) => setTimeout(r, 5_000));
      const mfa = await getMfa('brand');
      expect(condition(mfa, 'CredentialsValid').status).toBe('True');
      expect(condition(mfa, 'Ready').status).toBe('True');
      expect(await jobsOf()).toBe(jobsBefore);

      await kubectlOk(admin, ['delete', 'mfa', 'brand', '-n', NS, '--timeout=60s']);
      expect((await env.app.accounts.status('brand@demo.example')).mfa.enabled).toBe(true);
      const kept = await store.readActiveSeed({ namespace: NS, name: 'brand', uid: mfa.metadata.uid });
      expect(kept?.seed.secret.reveal()).toBe(seed.secret.reveal());
    });
    it('keeps every secret it used out of logs, Events, status, Jobs, Pods and termination messages', async () => {
      const captured = await capturedOutput(env);
      expect(secretsUsed.length).toBeGreaterThan(10);
      const leaked = secretsUsed.filter((s) => captured.includes(s));
      expect(leaked).toEqual([]);
      expect(captured).toContain('JobCreated');
    });
    it('ran under config/rbac: denied nothing, and used every rule it holds', () => {
      const { used, denied } = operatorApiUse(env.cp);
      expect(denied).toEqual([]);
      const rules = ['role.yaml', 'leader_election_role.yaml'].flatMap((f) =>
        parseAllDocuments(readFileSync(`${REPO}/config/rbac/${f}`, 'utf8')).flatMap(
          (d) => (d.toJS().rules ?? []) as Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>,
        ),
      );
      const granted = rules.flatMap((r) =>
        r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}|${res}|${v}`))),
      );
      expect(granted.filter((g) => !used.has(g))).toEqual([]);
    });
  },
);
