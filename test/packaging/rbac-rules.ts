import type { KubeObject } from './manifests.ts';

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}
interface Binding {
  roleRef: { kind: string; name: string };
  subjects: Array<{ kind: string; name: string; namespace?: string }>;
}

/** Every permission as one comparable line: which role grants which verb on what. */
export function grantedPermissions(objects: readonly KubeObject[]): string[] {
  return objects
    .filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')
    .flatMap((role) =>
      ((role.rules ?? []) as PolicyRule[]).flatMap((rule) =>
        (rule.apiGroups ?? ['']).flatMap((group) =>
          (rule.resources ?? rule.nonResourceURLs ?? []).flatMap((resource) =>
            rule.verbs.map(
              (verb) =>
                `${role.kind} ${role.metadata.name}${role.metadata.namespace ? ` in ${role.metadata.namespace}` : ''}: ${verb} ${group}/${resource}${rule.resourceNames ? ` [${rule.resourceNames.join(',')}]` : ''}`,
            ),
          ),
        ),
      ),
    )
    .sort();
}

/** Every binding as one comparable line: who gets which role where. */
export function bindings(objects: readonly KubeObject[]): string[] {
  return objects
    .filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')
    .flatMap((b) =>
      (b as unknown as Binding).subjects.map(
        (s) =>
          `${b.kind} ${b.metadata.name}${b.metadata.namespace ? ` in ${b.metadata.namespace}` : ''}: ${s.kind} ${s.namespace ?? ''}/${s.name} -> ${(b as unknown as Binding).roleRef.kind} ${(b as unknown as Binding).roleRef.name}`,
      ),
    )
    .sort();
}
