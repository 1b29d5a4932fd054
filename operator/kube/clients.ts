import {
  ApiException,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/v1alpha1/resources.ts';

export interface KubeClients {
  kc: KubeConfig;
  core: CoreV1Api;
  batch: BatchV1Api;
  custom: CustomObjectsApi;
  coordination: CoordinationV1Api;
  events: EventsV1Api;
  rbac: RbacAuthorizationV1Api;
}

/** In a pod: the service account; elsewhere: $KUBECONFIG or ~/.kube/config (as kubectl). */
export function loadKubeConfig(kubeconfigPath?: string): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else kc.loadFromDefault();
  return kc;
}

export function createClients(kc: KubeConfig): KubeClients {
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    batch: kc.makeApiClient(BatchV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    coordination: kc.makeApiClient(CoordinationV1Api),
    events: kc.makeApiClient(EventsV1Api),
    rbac: kc.makeApiClient(RbacAuthorizationV1Api),
  };
}

/** One custom object by name (cluster-scoped without a namespace); undefined when it does not exist. */
export async function readCustom<T>(
  clients: KubeClients,
  plural: string,
  name: string,
  namespace?: string,
): Promise<T | undefined> {
  try {
    const args = { group: GROUP, version: VERSION, plural, name };
    return (
      namespace
        ? await clients.custom.getNamespacedCustomObject({ ...args, namespace })
        : await clients.custom.getClusterCustomObject(args)
    ) as T;
  } catch (e: unknown) {
    if (e instanceof ApiException && e.code === 404) return undefined;
    throw e;
  }
}
