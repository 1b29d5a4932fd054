import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { IMAGE } from '../image/image.ts';
import { runToolOk } from '../packaging/tools.ts';
import { REPO } from './cluster.ts';
import { DEMO_APP_SERVICE_IP } from './demo-app-in-cluster.ts';
import { kubectlOk } from './kubectl.ts';
import { waitFor } from './wait.ts';

export const RELEASE = 'mfa-operator';
export const OPERATOR_NAMESPACE = 'mfa-operator-system';
/** The code-service Service's fixed ClusterIP (test/cluster's service range): the local cluster has no DNS. */
export const CODE_SERVICE_IP = '198.18.128.11';
export const OPERATOR_DEPLOYMENT = `${RELEASE}-controller-manager`;
const LEASE = `${RELEASE}-leader`;
const SELECTOR = 'app.kubernetes.io/component=controller,app.kubernetes.io/instance=' + RELEASE;

/** The operator as `helm install` puts it in a cluster: the chart's Deployment (two replicas) from the built image. */
export interface HelmOperator {
  readonly namespace: string;
  /** Where the code service answers, from the host and from pods: its Service's fixed ClusterIP. */
  readonly codeService: { url: string; caPath: string };
  /** The operator pods' names, oldest first. */
  pods(): Promise<string[]>;
  /** The pod holding the leader Lease (its identity is the pod name plus a suffix). */
  leader(): Promise<string>;
  uninstall(): Promise<void>;
}

/**
 * Values for a local cluster: the image podman built (never pulled), the code service on a fixed ClusterIP (its
 * certificate names it and runs use it), the demo app's Service address allowed for the demo connector, and short
 * retries. `overrides` are merged on top at the first level of each key.
 */
export function localClusterValues(overrides: Record<string, Record<string, unknown>> = {}): Record<string, unknown> {
  const [repository, tag] = [IMAGE.slice(0, IMAGE.lastIndexOf(':')), IMAGE.slice(IMAGE.lastIndexOf(':') + 1)];
  const base: Record<string, Record<string, unknown>> = {
    image: { repository, tag, pullPolicy: 'Never' },
    runner: {
      image: { pullPolicy: 'Never' },
      retryBaseSeconds: 2,
      retryMaxSeconds: 10,
      maxAttempts: 3,
      activeDeadlineSeconds: 240,
    },
    codeService: { service: { clusterIP: CODE_SERVICE_IP } },
    connectors: { demo: { allowedLoginHosts: [DEMO_APP_SERVICE_IP] } },
    leaderElection: { enabled: true },
  };
  const values: Record<string, unknown> = { replicaCount: 2, resyncPeriodSeconds: 30 };
  for (const key of new Set([...Object.keys(base), ...Object.keys(overrides)]))
    values[key] = { ...base[key], ...overrides[key] };
  return values;
}

/** `helm upgrade --install` of charts/mfa-operator, waiting until every replica is ready and one leads. */
export async function installOperatorWithHelm(
  kubeconfig: string,
  dir: string,
  values = localClusterValues(),
): Promise<HelmOperator> {
  const valuesFile = join(dir, 'helm-values.yaml');
  await writeFile(valuesFile, stringify(values));
  await runToolOk('helm', [
    'upgrade',
    '--install',
    RELEASE,
    `${REPO}/charts/mfa-operator`,
    '--namespace',
    OPERATOR_NAMESPACE,
    '--create-namespace',
    '--kubeconfig',
    kubeconfig,
    '--values',
    valuesFile,
    '--wait',
    '--timeout',
    '5m',
  ]);
  const caPath = join(dir, 'code-service-ca.crt');
  const ca = await kubectlOk(kubeconfig, [
    'get',
    'secret',
    `${RELEASE}-code-service-tls`,
    '-n',
    OPERATOR_NAMESPACE,
    '-o',
    'jsonpath={.data.ca\\.crt}',
  ]);
  await writeFile(caPath, Buffer.from(ca, 'base64'));
  const pods = async () => {
    const list = JSON.parse(
      await kubectlOk(kubeconfig, ['get', 'pods', '-n', OPERATOR_NAMESPACE, '-l', SELECTOR, '-o', 'json']),
    ) as { items: any[] };
    return list.items
      .filter((p) => !p.metadata.deletionTimestamp)
      .sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)))
      .map((p) => p.metadata.name as string);
  };
  const leader = () =>
    waitFor(
      'a replica holding the leader Lease',
      async () => {
        const holder = await kubectlOk(kubeconfig, [
          'get',
          'lease',
          LEASE,
          '-n',
          OPERATOR_NAMESPACE,
          '-o',
          'jsonpath={.spec.holderIdentity}',
        ]).catch(() => '');
        return (await pods()).find((pod) => holder.startsWith(`${pod}-`) || holder === pod);
      },
      60_000,
      500,
    );
  await leader();
  return {
    namespace: OPERATOR_NAMESPACE,
    codeService: { url: `https://${CODE_SERVICE_IP}`, caPath },
    pods,
    leader,
    async uninstall() {
      await runToolOk('helm', [
        'uninstall',
        RELEASE,
        '--namespace',
        OPERATOR_NAMESPACE,
        '--kubeconfig',
        kubeconfig,
        '--wait',
        '--timeout',
        '2m',
      ]);
    },
  };
}
