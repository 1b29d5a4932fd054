// Milliseconds per store operation for both providers against their local backends (the
// Secret Manager test server; a real kube-apiserver + etcd), median over N accounts enrolled
// one after another (write pending, promote, write recovery codes, read metadata, read active):
//   node bench/store-providers.ts [accounts=50]
import { credentials } from '@grpc/grpc-js';
import { CoreV1Api } from '@kubernetes/client-node';
import { newAccount, randomRecoveryCodes, randomSeed } from '../test/stores/random-material.ts';
import { GcpSecretStore } from '../operator/stores/gcp/gcp-secret-store.ts';
import { KubernetesSecretStore } from '../operator/stores/kubernetes/kubernetes-secret-store.ts';
import type { SecretStoreProvider } from '../operator/stores/provider.ts';
import { startControlPlane } from '../test/envtest/control-plane.ts';
import { SecretManagerTestServer } from '../test/gcp-secret-manager/server.ts';

const accounts = Number(process.argv[2] ?? '50');
if (!Number.isInteger(accounts) || accounts < 1)
  throw new Error('usage: node bench/store-providers.ts [accounts >= 1]');

const OPERATIONS = [
  'writePendingSeed',
  'promotePendingSeed',
  'writeRecoveryCodes',
  'readMetadata',
  'readActiveSeed',
] as const;
type Operation = (typeof OPERATIONS)[number];

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};
const round = (value: number): number => Math.round(value * 100) / 100;

async function timed<T>(samples: number[], operation: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await operation();
  samples.push(performance.now() - started);
  return result;
}

async function measure(provider: SecretStoreProvider, namespace: string): Promise<Record<Operation, number>> {
  const samples = Object.fromEntries(OPERATIONS.map((operation) => [operation, [] as number[]])) as Record<
    Operation,
    number[]
  >;
  for (let i = 0; i < accounts; i++) {
    const ref = newAccount(namespace);
    const pending = await timed(samples.writePendingSeed, () => provider.writePendingSeed(ref, randomSeed()));
    await timed(samples.promotePendingSeed, () => provider.promotePendingSeed(ref, pending.version));
    await timed(samples.writeRecoveryCodes, () => provider.writeRecoveryCodes(ref, randomRecoveryCodes()));
    await timed(samples.readMetadata, () => provider.readMetadata(ref));
    await timed(samples.readActiveSeed, () => provider.readActiveSeed(ref));
  }
  return Object.fromEntries(OPERATIONS.map((operation) => [operation, round(median(samples[operation]))])) as Record<
    Operation,
    number
  >;
}

// No Google credentials here: keep the auth library from probing for a GCE metadata server.
process.env.METADATA_SERVER_DETECTION = 'none';
const server = await SecretManagerTestServer.start();
const gcp = GcpSecretStore.create(
  { projectID: 'bench-project' },
  {},
  {
    connection: { apiEndpoint: '127.0.0.1', port: server.port, sslCreds: credentials.createInsecure() },
  },
);
const gcpMedians = await measure(gcp, 'bench');
await gcp.close();
await server.stop();

const plane = await startControlPlane();
const kubeConfig = plane.kubeConfig();
await kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'bench' } } });
const kubernetesMedians = await measure(new KubernetesSecretStore(kubeConfig), 'bench');
await plane.stop();

console.log(
  JSON.stringify(
    {
      benchmark: 'store-providers',
      accounts,
      medianMilliseconds: { gcpSecretManagerTestServer: gcpMedians, kubernetesLocalApiServer: kubernetesMedians },
    },
    null,
    2,
  ),
);
