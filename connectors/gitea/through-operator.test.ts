import { KubeConfig } from '@kubernetes/client-node';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../sdk/browser.ts';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import { KubernetesSecretStore } from '../../operator/stores/kubernetes/kubernetes-secret-store.ts';
import { startGitea, type GiteaServer } from '../../test/apps/gitea/server.ts';
import { signInByHand as signInAt, type SecondStep } from '../../test/apps/gitea/sign-in-by-hand.ts';
import { NETWORK } from '../../test/cluster/network-plan.ts';
import { CertificateDirectory } from '../../test/envtest/certificates.ts';
import { REPO } from '../../test/support/cluster.ts';
import { runCommand } from '../../test/support/command.ts';
import { capturedOutput, startE2eEnvironment, type E2eEnvironment } from '../../test/support/e2e-environment.ts';
import { kubectl, kubectlOk } from '../../test/support/kubectl.ts';
import { credentialsSecret, managedAccountMfa } from '../../test/support/resources.ts';
import { startTlsFront, type TlsFront } from '../../test/support/tls-front.ts';
import { waitFor } from '../../test/support/wait.ts';
import { allowedLoginHostsEnv } from '../sdk/deployment-hosts.ts';

/**
 * The gitea connector through the whole product: the one-node cluster, the operator under its RBAC
 * and its run Jobs as pods, the Gitea test instance (on this host, reached by the pods through an
 * HTTPS front on the node address, from a throwaway CA the resources name), Chromium. What a user
 * does: kubectl apply, kubectl mfa code, a rotation annotation, spec.mfa.state Disabled, kubectl delete.
 */

const NS = 'default';
const PERIOD_MS = 30_000;
let env: E2eEnvironment;
let site: GiteaServer;
let browser: Browser;
let store: KubernetesSecretStore;
let shimDir: string;
let front: TlsFront;
/** The sign-in page as run pods reach it: through the HTTPS front on the node address. */
let podLoginUrl: string;
const secretsUsed: string[] = [];

beforeAll(async () => {
  // The cluster admin's list: the controller copies it into gitea run Jobs (connectorSettingsEnv).
  process.env[allowedLoginHostsEnv('gitea')] = NETWORK.nodeAddress;
  // Gitea answers any Host and redirects by path, so the front needs nothing of it.
  [env, site, browser] = await Promise.all([startE2eEnvironment(), startGitea(), launchBrowser()]);
  const kc = new KubeConfig();
  kc.loadFromFile(env.cp.kubeconfigPath);
  store = new KubernetesSecretStore(kc);
  shimDir = await mkdtemp(join(tmpdir(), 'kubectl-mfa-shim-'));
  await writeFile(join(shimDir, 'kubectl-mfa'), `#!/bin/sh\nexec "${process.execPath}" "${REPO}/operator/cli/kubectl-mfa.ts" "$@"\n`);
  await chmod(join(shimDir, 'kubectl-mfa'), 0o755);
  const certificates = await CertificateDirectory.create(shimDir);
  const ca = await certificates.createCertificateAuthority('gitea-front-ca');
  const serving = await certificates.issueServingCertificate('gitea-front', ca, [NETWORK.nodeAddress]);
  front = await startTlsFront(new URL(site.url), NETWORK.nodeAddress, { cert: await readFile(serving.certPath, 'utf8'), key: await readFile(serving.keyPath, 'utf8') });
  podLoginUrl = site.loginUrl.replace(site.url, front.url);
  await kubectlOk(env.cp.kubeconfigPath, ['create', 'configmap', 'gitea-ca', '-n', NS, `--from-file=ca.crt=${ca.certPath}`]);
}, 600_000);

afterAll(async () => {
  await front?.stop();
  await browser?.close();
  await env?.stop();
  await site?.stop();
  if (shimDir) await rm(shimDir, { recursive: true, force: true });
});

async function getMfa(name: string): Promise<any> {
  return JSON.parse(await kubectlOk(env.cp.kubeconfigPath, ['get', 'mfa', name, '-n', NS, '-o', 'json']));
}

function condition(mfa: any, type: string): any {
  return mfa.status?.conditions?.find((c: any) => c.type === type);
}

async function applyAccount(name: string, username: string, password: string): Promise<void> {
  secretsUsed.push(password);
  await kubectlOk(env.cp.kubeconfigPath, ['apply', '-f', '-'], credentialsSecret(`${name}-login`, NS, { username, password }));
  await kubectlOk(env.cp.kubeconfigPath, ['apply', '-f', '-'], managedAccountMfa(name, NS, {
    connector: 'gitea', account: { displayName: name, loginUrl: podLoginUrl, caBundleRef: { configMapName: 'gitea-ca' }, credentialsSecretRef: { name: `${name}-login` } },
  }));
}

async function activeSeed(name: string): Promise<TotpSeed> {
  const mfa = await getMfa(name);
  const stored = await store.readActiveSeed({ namespace: NS, name, uid: mfa.metadata.uid });
  if (!stored) throw new Error(`no active seed stored for ${name}`);
  secretsUsed.push(stored.seed.secret.reveal());
  return stored.seed;
}

/** `kubectl mfa code NAME --once --direct`, as an admin types it: the plugin found on PATH. */
async function kubectlMfaCode(name: string): Promise<string> {
  const result = await runCommand('kubectl', ['mfa', 'code', name, '-n', NS, '--once', '--direct', '--kubeconfig', env.cp.kubeconfigPath],
    { env: { ...process.env, PATH: `${shimDir}:${process.env.PATH}` } });
  if (result.code !== 0) throw new Error(`kubectl mfa code failed: ${result.stderr}`);
  return result.stdout.trim();
}

/**
 * Gitea accepts a code once and only around its own 30 s window; the run Job may have just used this
 * window's code to confirm the enrolment. A refused code is tried once more in the next window.
 */
async function signInWithCodeFrom(code: () => Promise<string>, username: string, password: string): Promise<string | undefined> {
  for (let attempt = 1; ; attempt++) {
    await nextWindowIfEnding();
    const window = Math.floor(Date.now() / PERIOD_MS);
    const signedIn = await signInByHand(username, password, { code: await code() });
    if (signedIn || attempt === 2) return signedIn;
    await waitFor('the next TOTP window', () => Math.floor(Date.now() / PERIOD_MS) > window, PERIOD_MS + 1_000, 250);
  }
}

function signInByHand(username: string, password: string, second: SecondStep): Promise<string | undefined> {
  return signInAt(browser, site.url, username, password, second);
}

async function nextWindowIfEnding(): Promise<void> {
  const window = Math.floor(Date.now() / PERIOD_MS);
  if (PERIOD_MS - (Date.now() % PERIOD_MS) > 5_000) return;
  await waitFor('the next TOTP window', () => Math.floor(Date.now() / PERIOD_MS) > window, 6_000, 100);
}

describe('gitea through the operator: real API server, operator under its RBAC, Jobs, Chromium, a Gitea instance', { timeout: 400_000 }, () => {
  const username = 'shared-admin';
  const password = `pw-${Math.random().toString(36).slice(2)}`;

  it('turns MFA on: kubectl apply, then Ready, seed and recovery codes stored, and a code from kubectl mfa code signs in', async () => {
    await site.createUser(username, password);
    await applyAccount('site', username, password);

    await kubectlOk(env.cp.kubeconfigPath, ['wait', '--for=condition=Ready', 'mfa/site', '-n', NS, '--timeout=300s']);

    const mfa = await getMfa('site');
    expect(mfa.status.mfaState).toBe('Enabled');
    expect(mfa.status.totp).toMatchObject({ algorithm: 'SHA1', digits: 6, period: 30 });
    expect(mfa.status.recoveryCodes.count).toBe(1);
    expect(mfa.status.history[0]).toMatchObject({ outcome: 'Enabled' });
    expect(await site.twoFactor(username)).toEqual({ totp: true, securityKeys: 0 });
    await activeSeed('site');
    expect(await signInWithCodeFrom(() => kubectlMfaCode('site'), username, password)).toBe(username);
    const [job] = JSON.parse(await kubectlOk(env.cp.kubeconfigPath, ['get', 'jobs', '-n', NS, '-l', 'mfa-operator.io/account=site', '-o', 'json'])).items;
    expect(job.spec.template.spec.containers[0].env).toContainEqual({ name: allowedLoginHostsEnv('gitea'), value: NETWORK.nodeAddress });
  });

  it('lets the stored recovery key sign in once', async () => {
    const mfa = await getMfa('site');
    const codes = (await store.readRecoveryCodes({ namespace: NS, name: 'site', uid: mfa.metadata.uid }))?.codes.reveal() ?? [];
    secretsUsed.push(...codes);

    expect(codes).toHaveLength(1);
    expect(await signInByHand(username, password, { recoveryKey: codes[0]! })).toBe(username);
    expect(await signInByHand(username, password, { recoveryKey: codes[0]! })).toBeUndefined();
    expect(await site.twoFactor(username)).toEqual({ totp: true, securityKeys: 0 });
  });

  it('reports MfaAlreadyEnabled for a second resource on the same account, which has no seed stored', async () => {
    await applyAccount('site-again', username, password);

    const failed = await waitFor('MfaAlreadyEnabled', async () => {
      const mfa = await getMfa('site-again');
      return condition(mfa, 'Ready')?.reason === 'MfaAlreadyEnabled' ? mfa : undefined;
    }, 300_000, 1000);

    expect(condition(failed, 'Ready').status).toBe('False');
    await kubectlOk(env.cp.kubeconfigPath, ['delete', 'mfa', 'site-again', '-n', NS, '--timeout=60s']);
  });

  it('rotates the seed when mfa-operator.io/rotate changes: Gitea re-enrols, and the new seed signs in', async () => {
    const before = await activeSeed('site');

    await kubectlOk(env.cp.kubeconfigPath, ['annotate', 'mfa', 'site', '-n', NS, 'mfa-operator.io/rotate=2026-12-02']);
    const rotated = await waitFor('rotation recorded', async () => {
      const mfa = await getMfa('site');
      return mfa.status?.totp?.rotatedFor === '2026-12-02' && condition(mfa, 'Ready')?.status === 'True' ? mfa : undefined;
    }, 300_000, 1000);

    expect(rotated.status.history[0]).toMatchObject({ trigger: 'Rotate', outcome: 'Enabled' });
    const after = await activeSeed('site');
    expect(after.secret.reveal()).not.toBe(before.secret.reveal());
    expect(await site.twoFactor(username)).toEqual({ totp: true, securityKeys: 0 });
    expect(await signInWithCodeFrom(() => kubectlMfaCode('site'), username, password)).toBe(username);
  });

  it('turns MFA off when spec.mfa.state becomes Disabled, then kubectl delete lets the resource go', async () => {
    await kubectlOk(env.cp.kubeconfigPath, ['patch', 'mfa', 'site', '-n', NS, '--type=merge', '-p', '{"spec":{"mfa":{"state":"Disabled"}}}']);
    await waitFor('MFA off', async () => (await getMfa('site')).status?.mfaState === 'Disabled', 300_000, 1000);
    await kubectlOk(env.cp.kubeconfigPath, ['wait', '--for=condition=Ready', 'mfa/site', '-n', NS, '--timeout=60s']);
    expect(await site.twoFactor(username)).toEqual({ totp: false, securityKeys: 0 });

    await kubectlOk(env.cp.kubeconfigPath, ['delete', 'mfa', 'site', '-n', NS, '--timeout=60s']);

    expect((await kubectl(env.cp.kubeconfigPath, ['get', 'mfa', 'site', '-n', NS])).stderr).toMatch(/NotFound/);
    expect(await site.twoFactor(username)).toEqual({ totp: false, securityKeys: 0 });
  });

  it('reports a wrong password as InvalidCredentials without retrying', async () => {
    await site.createUser('typo', 'the-real-password');
    await applyAccount('typo', 'typo', 'not-the-password');

    const failed = await waitFor('InvalidCredentials, not retried', async () => {
      const mfa = await getMfa('typo');
      return /will not retry/.test(condition(mfa, 'AutomationSucceeded')?.message ?? '') ? mfa : undefined;
    }, 300_000, 1000);

    expect(condition(failed, 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidCredentials' });
    expect(await site.twoFactor('typo')).toEqual({ totp: false, securityKeys: 0 });
  });

  it('keeps every secret it used out of logs, Events, status, Jobs, Pods and termination messages', async () => {
    const captured = await capturedOutput(env);

    expect(secretsUsed.length).toBeGreaterThan(10);
    expect(secretsUsed.filter((secret) => captured.includes(secret))).toEqual([]);
    expect(captured).toContain('JobCreated');
  });
});
