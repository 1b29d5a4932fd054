import { CustomObjectsApi } from '@kubernetes/client-node';
import {
  CLUSTER_MFA_SECRET_STORE,
  GROUP,
  MANAGED_ACCOUNT_MFA,
  MFA_SECRET_STORE,
  VERSION,
} from '../../api/v1alpha1/resources.ts';
import type { ManagedAccountMfa, MfaSecretStore } from '../../api/v1alpha1/types.generated.ts';
import { CodeIssuer } from '../../codes/code-issuer.ts';
import { KubernetesSecretStore } from '../../stores/kubernetes/kubernetes-secret-store.ts';
import { isStoreError } from '../../stores/store-error.ts';
import { CliError } from './cli-error.ts';
import type { CodeAnswer } from './code-service-client.ts';
import type { KubeContext } from './kube-context.ts';

type Account = { namespace: string; name: string };

/** One attempt: a person is waiting, and a denial will not change on retry. */
const ONE_ATTEMPT = { attempts: 1, initialDelayMs: 0, maxDelayMs: 0, multiplier: 1 };

function statusCode(e: unknown): number | undefined {
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'number'
    ? (e as { code: number }).code
    : undefined;
}

export async function readManagedAccountMfa(context: KubeContext, account: Account): Promise<ManagedAccountMfa> {
  try {
    return (await context.kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: account.namespace,
      plural: MANAGED_ACCOUNT_MFA.plural,
      name: account.name,
    })) as ManagedAccountMfa;
  } catch (e: unknown) {
    const code = statusCode(e);
    if (code === 404)
      throw new CliError(`there is no ManagedAccountMfa ${account.name} in namespace ${account.namespace}`);
    if (code === 403) throw new CliError(`you need get on managedaccountmfas in namespace ${account.namespace}`);
    throw new CliError(
      `cannot read ManagedAccountMfa ${account.namespace}/${account.name}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

/** --direct works only where the seed is a Kubernetes Secret the user may read. */
async function requireKubernetesStore(context: KubeContext, mfa: ManagedAccountMfa): Promise<void> {
  const ref = mfa.spec.secretStoreRef;
  if (!ref) return;
  const cluster = ref.kind === 'ClusterMfaSecretStore';
  const custom = context.kc.makeApiClient(CustomObjectsApi);
  let store: MfaSecretStore;
  try {
    store = (
      cluster
        ? await custom.getClusterCustomObject({
            group: GROUP,
            version: VERSION,
            plural: CLUSTER_MFA_SECRET_STORE.plural,
            name: ref.name,
          })
        : await custom.getNamespacedCustomObject({
            group: GROUP,
            version: VERSION,
            namespace: mfa.metadata.namespace!,
            plural: MFA_SECRET_STORE.plural,
            name: ref.name,
          })
    ) as MfaSecretStore;
  } catch {
    throw new CliError(
      `cannot read the ${ref.kind ?? 'MfaSecretStore'} ${ref.name} that ${mfa.metadata.name} uses; --direct needs get on it`,
    );
  }
  if (!store.spec.provider.kubernetes) {
    throw new CliError(
      `${mfa.metadata.name} keeps its seed in ${ref.kind ?? 'MfaSecretStore'} ${ref.name}, not in Kubernetes Secrets; --direct cannot read it, ask the code service instead (drop --direct)`,
    );
  }
}

/** The current code computed here from the seed Secret, read with the user's own credentials. */
export async function directCode(context: KubeContext, account: Account): Promise<CodeAnswer> {
  const mfa = await readManagedAccountMfa(context, account);
  await requireKubernetesStore(context, mfa);
  const store = new KubernetesSecretStore(context.kc, { backoff: ONE_ATTEMPT });
  let stored;
  try {
    stored = await store.readActiveSeed({ ...account, uid: mfa.metadata.uid ?? '' });
  } catch (e: unknown) {
    if (isStoreError(e) && (e.reason === 'PermissionDenied' || e.reason === 'AuthFailed')) {
      throw new CliError(`you need get on secrets in namespace ${account.namespace} to use --direct`);
    }
    throw new CliError(
      isStoreError(e) ? e.message : `reading the seed failed: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  if (!stored)
    throw new CliError(
      `${account.namespace}/${account.name} has no active TOTP seed yet; wait until its SeedStored condition is True`,
    );
  const issued = await new CodeIssuer().issue(stored.seed, 'display');
  return {
    code: issued.code.reveal(),
    secondsRemaining: issued.secondsRemaining,
    period: issued.period,
    digits: issued.digits,
    algorithm: issued.algorithm,
  };
}
