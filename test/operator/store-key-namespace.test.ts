import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { ControlPlane } from '../envtest/control-plane.ts';
import { REPO, startClusterWithCrds } from '../support/cluster.ts';
import { kubectlOk } from '../support/kubectl.ts';
import { startOperator, type OperatorProcess } from '../support/operator-process.ts';
import { credentialsSecret, managedAccountMfa } from '../support/resources.ts';
import { waitFor } from '../support/wait.ts';

const NS = 'team-a';
const KEY = 'kube-system-key-material-9';
const CRD = `${REPO}/crds/mfa-operator.io_mfasecretstores.yaml`;
let cp: ControlPlane;
let operator: OperatorProcess;

/** The MfaSecretStore CRD as it was before it forbade auth.secretRef.namespace. */
async function crdWithoutTheRule(): Promise<string> {
  const crd = parse(await readFile(CRD, 'utf8'), { maxAliasCount: -1 });
  const schema = crd.spec.versions[0].schema.openAPIV3Schema;
  delete schema.properties.spec.properties.provider.properties.gcpSecretManager.properties.auth.properties.secretRef[
    'x-kubernetes-validations'
  ];
  return stringify(crd, { aliasDuplicateObjects: false });
}

beforeAll(async () => {
  cp = await startClusterWithCrds();
  await kubectlOk(cp.kubeconfigPath, ['create', 'namespace', NS]);
  await kubectlOk(cp.kubeconfigPath, [
    '-n',
    'kube-system',
    'create',
    'secret',
    'generic',
    'cluster-key',
    `--from-literal=key.json=${KEY}`,
  ]);
  // Stored under the old schema, then the current CRD is applied: the API server keeps the object as it is.
  await kubectlOk(
    cp.kubeconfigPath,
    ['apply', '--server-side', '--force-conflicts', '-f', '-'],
    await crdWithoutTheRule(),
  );
  const store = {
    apiVersion: 'mfa-operator.io/v1alpha1',
    kind: 'MfaSecretStore',
    metadata: { name: 'gcp', namespace: NS },
    spec: {
      provider: {
        gcpSecretManager: {
          projectID: 'my-project-1',
          auth: { secretRef: { name: 'cluster-key', namespace: 'kube-system', key: 'key.json' } },
        },
      },
    },
  };
  await waitFor(
    'the old schema in force',
    async () =>
      (await kubectlOk(cp.kubeconfigPath, ['apply', '-f', '-'], stringify(store)).catch(() => false)) || undefined,
  );
  await kubectlOk(cp.kubeconfigPath, ['apply', '--server-side', '--force-conflicts', '-f', CRD]);
  operator = startOperator(cp.kubeconfigPath, ['--no-leader-elect']);
  await operator.waitForLog('caches synced; reconciling');
}, 120_000);
afterAll(async () => {
  await operator?.kill();
  await cp?.stop();
});

describe('an MfaSecretStore stored before the schema forbade auth.secretRef.namespace', () => {
  it("is refused with InvalidStoreConfig on the store and on the resource using it; the other namespace's Secret is never read", async () => {
    await kubectlOk(
      cp.kubeconfigPath,
      ['apply', '-f', '-'],
      credentialsSecret('brand-login', NS, { username: 'u', password: 'pw-store-ns-1' }),
    );
    await kubectlOk(
      cp.kubeconfigPath,
      ['apply', '-f', '-'],
      managedAccountMfa('brand', NS, { secretStoreRef: { kind: 'MfaSecretStore', name: 'gcp' } }),
    );
    const get = async (kind: string, name: string) =>
      JSON.parse(await kubectlOk(cp.kubeconfigPath, ['get', kind, name, '-n', NS, '-o', 'json']));
    const reason = (o: any, type: string) => o.status?.conditions?.find((c: any) => c.type === type)?.reason;

    const store = await waitFor('the store refused', async () => {
      const s = await get('mfasecretstore', 'gcp');
      return reason(s, 'Ready') === 'InvalidStoreConfig' ? s : undefined;
    });
    const mfa = await waitFor('the resource refused', async () => {
      const m = await get('mfa', 'brand');
      return reason(m, 'SecretStoreReady') === 'InvalidStoreConfig' ? m : undefined;
    });
    const message = mfa.status.conditions.find((c: any) => c.type === 'SecretStoreReady').message;
    expect(message).toMatch(
      /secretRef\.namespace "kube-system": a namespaced store may read its key Secret only from its own namespace/,
    );
    const everything = [
      JSON.stringify(store.status),
      JSON.stringify(mfa.status),
      await kubectlOk(cp.kubeconfigPath, ['get', 'events', '-n', NS, '-o', 'json']),
      operator.lines.join('\n'),
    ].join('\n');
    for (const value of [KEY, Buffer.from(KEY).toString('base64')]) expect(everything).not.toContain(value);
  });
});
