import { ApiException, type CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import type { ManagedAccountMfa } from '../api/v1alpha1/types.generated.ts';
import { CaBundleProblem, parseCaBundle } from '../../core/tls/ca-bundle.ts';
import type { ConditionUpdate } from '../controller/status/conditions.ts';

export const DEFAULT_CA_BUNDLE_KEY = 'ca.crt';

/** The checked CA certificates of spec.account.caBundleRef, and the ConfigMap version they came from. */
export interface CaBundle {
  pem: string;
  resourceVersion: string;
}

export type CaBundleRead =
  { kind: 'none' } | { kind: 'bundle'; bundle: CaBundle } | { kind: 'refused'; condition: ConditionUpdate };

/**
 * Reads spec.account.caBundleRef when a run is about to start (a GET, no watch: the operator needs it only
 * then). A missing ConfigMap or key, or a bundle that is not all valid CA certificates, refuses the run with a
 * condition saying what to fix; an API error other than 404 is thrown and the reconcile retried.
 */
export async function readCaBundle(core: CoreV1Api, mfa: ManagedAccountMfa, now: Date): Promise<CaBundleRead> {
  const ref = mfa.spec.account.caBundleRef;
  if (!ref) return { kind: 'none' };
  const key = ref.key ?? DEFAULT_CA_BUNDLE_KEY;
  const where = `ConfigMap ${ref.configMapName} (spec.account.caBundleRef)`;
  const configMap = await getConfigMap(core, mfa.metadata.namespace!, ref.configMapName);
  if (!configMap) {
    return refused(
      'CABundleNotFound',
      `${where} does not exist in namespace ${mfa.metadata.namespace}; create it with the CA certificates under key ${key}, or fix the name.`,
    );
  }
  // PEM is text: trust-manager and kube-root-ca.crt write it under data, never binaryData.
  const text = configMap.data?.[key];
  if (text === undefined) {
    return refused(
      'CABundleNotFound',
      `${where} has no key ${key}; put the PEM CA certificates under that key, or set spec.account.caBundleRef.key.`,
    );
  }
  try {
    const pem = parseCaBundle(text, now)
      .map((ca) => ca.pem)
      .join('');
    return { kind: 'bundle', bundle: { pem, resourceVersion: configMap.metadata?.resourceVersion ?? '' } };
  } catch (e: unknown) {
    if (!(e instanceof CaBundleProblem)) throw e;
    return refused(
      'CABundleInvalid',
      `Key ${key} of ${where} is not a usable CA bundle: ${e.message}. Fix the ConfigMap.`,
    );
  }
}

/** The ConfigMap's resourceVersion ('' when it is missing or there is no reference): a change re-arms a failed run. */
export async function caBundleVersion(core: CoreV1Api, mfa: ManagedAccountMfa): Promise<string> {
  const ref = mfa.spec.account.caBundleRef;
  if (!ref) return '';
  return (await getConfigMap(core, mfa.metadata.namespace!, ref.configMapName))?.metadata?.resourceVersion ?? '';
}

async function getConfigMap(core: CoreV1Api, namespace: string, name: string): Promise<V1ConfigMap | undefined> {
  try {
    return await core.readNamespacedConfigMap({ namespace, name });
  } catch (e: unknown) {
    if (e instanceof ApiException && e.code === 404) return undefined;
    throw e;
  }
}

function refused(reason: 'CABundleNotFound' | 'CABundleInvalid', message: string): CaBundleRead {
  return {
    kind: 'refused',
    condition: { type: 'AutomationSucceeded', status: 'False', reason, message: `${message} No run was started.` },
  };
}
