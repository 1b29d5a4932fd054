import type { CustomObjectsApi } from '@kubernetes/client-node';
import { GROUP, MANAGED_ACCOUNT_MFA, VERSION } from '../../api/v1alpha1/resources.ts';
import type { ManagedAccountMfa, ManagedAccountMfaStatus } from '../../api/v1alpha1/types.generated.ts';

/**
 * Replaces a ManagedAccountMfa's status through the status subresource. The read resourceVersion rides along in
 * metadata, so the API server refuses the write (409) if anyone wrote since: the reconciler requeues, a recovery
 * code claim reads again.
 */
export async function replaceStatus(
  custom: Pick<CustomObjectsApi, 'replaceNamespacedCustomObjectStatus'>,
  mfa: ManagedAccountMfa,
  status: ManagedAccountMfaStatus,
): Promise<ManagedAccountMfa> {
  return (await custom.replaceNamespacedCustomObjectStatus({
    group: GROUP,
    version: VERSION,
    plural: MANAGED_ACCOUNT_MFA.plural,
    namespace: mfa.metadata.namespace!,
    name: mfa.metadata.name!,
    body: { ...mfa, status },
  })) as ManagedAccountMfa;
}
