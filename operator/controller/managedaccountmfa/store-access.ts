import type { V1Namespace } from '@kubernetes/client-node';
import type { MfaSecretStore, NamespaceSelector } from '../../api/v1alpha1/types.generated.ts';

/** A cluster store is usable from a namespace it lists or whose labels match its selector; by default from none. */
export function namespaceAllowed(store: MfaSecretStore, namespace: string, ns: V1Namespace | undefined): boolean {
  const conditions = store.spec.conditions;
  if (!conditions) return false;
  if (conditions.namespaces?.includes(namespace)) return true;
  const selector = conditions.namespaceSelector;
  return Boolean(selector && ns && selectorMatches(selector, ns.metadata?.labels ?? {}));
}

export function selectorMatches(selector: NamespaceSelector, labels: Readonly<Record<string, string>>): boolean {
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every((e) => {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    switch (e.operator) {
      case 'In':
        return has && (e.values ?? []).includes(value!);
      case 'NotIn':
        return !has || !(e.values ?? []).includes(value!);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
    }
  });
  return byLabels && byExpressions;
}
