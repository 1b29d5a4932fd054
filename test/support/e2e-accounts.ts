import { KubeConfig } from '@kubernetes/client-node';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import type { HazardSettings } from '../apps/demo/hazards.ts';
import { KubernetesSecretStore } from '../../operator/stores/kubernetes/kubernetes-secret-store.ts';
import { kubectlOk } from './kubectl.ts';
import type { E2eEnvironment } from './e2e-environment.ts';
import { credentialsSecret, managedAccountMfa } from './resources.ts';
import { waitFor } from './wait.ts';

/** A demo-app account, its credentials Secret and a ManagedAccountMfa, as a user applies them. */
export async function applyAccount(
  env: E2eEnvironment,
  namespace: string,
  name: string,
  options: { spec?: Record<string, unknown>; slowPagesMs?: number; hazards?: HazardSettings } = {},
): Promise<{ email: string; password: string }> {
  const email = `${name}@demo.example`;
  const password = `pw-${name}-${Math.random().toString(36).slice(2)}`;
  const hazards = { ...(options.slowPagesMs ? { slowPages: options.slowPagesMs } : {}), ...options.hazards };
  await env.app.accounts.upsert({ email, password, ...(Object.keys(hazards).length ? { hazards } : {}) });
  await kubectlOk(
    env.cp.kubeconfigPath,
    ['apply', '-f', '-'],
    credentialsSecret(`${name}-login`, namespace, { username: email, password }),
  );
  await kubectlOk(
    env.cp.kubeconfigPath,
    ['apply', '-f', '-'],
    managedAccountMfa(name, namespace, {
      account: {
        displayName: name,
        loginUrl: `${env.app.url}/login`,
        credentialsSecretRef: { name: `${name}-login` },
        ...env.accountTls,
      },
      ...options.spec,
    }),
  );
  return { email, password };
}

export async function getMfa(env: E2eEnvironment, namespace: string, name: string): Promise<any> {
  return JSON.parse(await kubectlOk(env.cp.kubeconfigPath, ['get', 'mfa', name, '-n', namespace, '-o', 'json']));
}

export function condition(mfa: any, type: string): any {
  return mfa.status?.conditions?.find((c: any) => c.type === type);
}

/** The account's run Jobs, oldest first. */
export async function runJobs(env: E2eEnvironment, namespace: string, account: string): Promise<any[]> {
  const list = JSON.parse(
    await kubectlOk(env.cp.kubeconfigPath, [
      'get',
      'jobs',
      '-n',
      namespace,
      '-l',
      `mfa-operator.io/account=${account}`,
      '-o',
      'json',
    ]),
  );
  return (list.items as any[]).sort(
    (a, b) =>
      Number(a.metadata.labels['mfa-operator.io/attempt']) - Number(b.metadata.labels['mfa-operator.io/attempt']),
  );
}

export function jobFinished(job: any): 'Complete' | 'Failed' | undefined {
  return job.status?.conditions?.find((c: any) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')
    ?.type;
}

/** Waits until the account's first run has a running pod, and returns the Job's name. */
export async function waitForRunningRun(env: E2eEnvironment, namespace: string, account: string): Promise<string> {
  return waitFor(
    `a running run pod for ${account}`,
    async () => {
      const [job] = await runJobs(env, namespace, account);
      if (!job || jobFinished(job)) return undefined;
      const pods = JSON.parse(
        await kubectlOk(env.cp.kubeconfigPath, [
          'get',
          'pods',
          '-n',
          namespace,
          '-l',
          `job-name=${job.metadata.name}`,
          '-o',
          'json',
        ]),
      );
      return pods.items.some((p: any) => p.status?.phase === 'Running') ? (job.metadata.name as string) : undefined;
    },
    120_000,
    250,
  );
}

const stores = new WeakMap<E2eEnvironment, KubernetesSecretStore>();

/** The Kubernetes store as the cluster admin reads it. */
function storeOf(env: E2eEnvironment): KubernetesSecretStore {
  let store = stores.get(env);
  if (!store) {
    const kc = new KubeConfig();
    kc.loadFromFile(env.cp.kubeconfigPath);
    store = new KubernetesSecretStore(kc);
    stores.set(env, store);
  }
  return store;
}

/** The account's active seed as the Kubernetes store holds it, read as the cluster admin; `seen` collects it for the secret scans. */
export async function activeSeed(
  env: E2eEnvironment,
  namespace: string,
  name: string,
  seen: string[],
): Promise<TotpSeed> {
  const mfa = await getMfa(env, namespace, name);
  const stored = await storeOf(env).readActiveSeed({ namespace, name, uid: mfa.metadata.uid });
  if (!stored) throw new Error(`no active seed stored for ${name}`);
  seen.push(stored.seed.secret.reveal());
  return stored.seed;
}

/** Which seed slots the store holds for the account (their versions, never the seeds). */
export async function storedSlots(env: E2eEnvironment, namespace: string, name: string) {
  const mfa = await getMfa(env, namespace, name);
  const meta = await storeOf(env).readMetadata({ namespace, name, uid: mfa.metadata.uid });
  return { active: meta.active !== undefined, pending: meta.pending !== undefined };
}
