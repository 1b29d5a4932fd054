/**
 * The API group the code service serves through kube-apiserver (an APIService). Not `mfa-operator.io`: an
 * APIService for the CRDs' group/version would take over every request for it, so the CRDs would vanish.
 */
export const AGGREGATED_GROUP = 'codes.mfa-operator.io';
export const AGGREGATED_VERSION = 'v1alpha1';
export const AGGREGATED_GROUP_VERSION = `${AGGREGATED_GROUP}/${AGGREGATED_VERSION}`;

/** The path kubectl mfa and `kubectl create --raw` post to for one account's code or recovery code. */
export function aggregatedAccountPath(
  account: { namespace: string; name: string },
  subresource: 'code' | 'recovery-code',
): string {
  return (
    `/apis/${AGGREGATED_GROUP_VERSION}/namespaces/${encodeURIComponent(account.namespace)}` +
    `/managedaccountmfas/${encodeURIComponent(account.name)}/${subresource}`
  );
}
