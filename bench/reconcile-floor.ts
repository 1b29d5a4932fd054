// The floor bench/reconcile.ts compares the operator with: a bare client making, for each resource, the same three
// writes the operator's reconcile makes to reach the validated state (a finalizer merge patch, a status replace, an
// Event create), with the operator's worker count and its pooled API connection. No informers, no queue, no reads,
// no decisions: what three writes per resource cost on this API server at least.
import {
  CustomObjectsApi,
  EventsV1Api,
  PatchStrategy,
  setHeaderOptions,
  V1MicroTime,
  type KubeConfig,
} from '@kubernetes/client-node';
import { API_VERSION, GROUP, MANAGED_ACCOUNT_MFA, VERSION } from '../operator/api/v1alpha1/resources.ts';
import { pooledKubeConfig } from '../operator/kube/pooled-kube-config.ts';

const PLURAL = MANAGED_ACCOUNT_MFA.plural;

interface Resource {
  metadata: { uid: string; generation: number };
}

async function threeWrites(
  custom: CustomObjectsApi,
  events: EventsV1Api,
  name: string,
  namespace: string,
): Promise<void> {
  const patched = (await custom.patchNamespacedCustomObject(
    {
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace,
      name,
      body: { metadata: { finalizers: ['bench.mfa-operator.io/floor'] } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  )) as Resource;
  const now = new Date().toISOString();
  await custom.replaceNamespacedCustomObjectStatus({
    group: GROUP,
    version: VERSION,
    plural: PLURAL,
    namespace,
    name,
    body: {
      ...patched,
      status: {
        observedGeneration: patched.metadata.generation,
        conditions: [
          {
            type: 'FloorWritten',
            status: 'True',
            reason: 'Floor',
            message: 'bench floor',
            lastTransitionTime: now,
            observedGeneration: patched.metadata.generation,
          },
        ],
      },
    },
  });
  await events.createNamespacedEvent({
    namespace,
    body: {
      metadata: { name: `${name}.floor` },
      eventTime: new V1MicroTime(),
      reportingController: 'bench-floor',
      reportingInstance: 'bench-floor',
      action: 'Floor',
      reason: 'FloorWritten',
      type: 'Normal',
      note: 'bench floor',
      regarding: {
        apiVersion: API_VERSION,
        kind: MANAGED_ACCOUNT_MFA.kind,
        name,
        namespace,
        uid: patched.metadata.uid,
      },
    },
  });
}

/** Seconds for `workers` concurrent workers to make the three writes on every named resource. */
export async function reconcileFloorSeconds(
  kc: KubeConfig,
  namespace: string,
  names: readonly string[],
  workers: number,
): Promise<number> {
  const pooled = pooledKubeConfig(kc);
  try {
    const custom = pooled.kc.makeApiClient(CustomObjectsApi);
    const events = pooled.kc.makeApiClient(EventsV1Api);
    const queue = [...names];
    const started = performance.now();
    await Promise.all(
      Array.from({ length: workers }, async () => {
        for (let name = queue.shift(); name !== undefined; name = queue.shift())
          await threeWrites(custom, events, name, namespace);
      }),
    );
    return (performance.now() - started) / 1000;
  } finally {
    await pooled.close();
  }
}
