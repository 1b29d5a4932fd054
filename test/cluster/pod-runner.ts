import { BatchV1Api, CoreV1Api, type V1Container, type V1Job, type V1Pod } from '@kubernetes/client-node';
import { waitFor } from '../support/wait.ts';
import type { LocalCluster } from './cluster.ts';

/** The pod security context the operator gives its run Jobs (restricted Pod Security profile). */
export const RESTRICTED_CONTAINER: Pick<V1Container, 'securityContext' | 'volumeMounts'> = {
  securityContext: {
    runAsNonRoot: true,
    runAsUser: 65532,
    runAsGroup: 65532,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  },
  volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
};

export interface JobRun {
  job: V1Job;
  pod: V1Pod;
  /** The container's output, read through kube-apiserver from kubelet. */
  log: string;
}

/** Runs `node -e SCRIPT` in IMAGE as a one-pod Job, restricted, and returns the finished pod and its log. */
export async function runNodeJob(
  cluster: LocalCluster,
  namespace: string,
  name: string,
  image: string,
  script: string,
  extra: { serviceAccountName?: string; timeoutMs?: number } = {},
): Promise<JobRun> {
  const kc = cluster.kubeConfig();
  const batch = kc.makeApiClient(BatchV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  await batch.createNamespacedJob({
    namespace,
    body: {
      metadata: { name },
      spec: {
        backoffLimit: 0,
        template: {
          spec: {
            restartPolicy: 'Never',
            ...(extra.serviceAccountName
              ? { serviceAccountName: extra.serviceAccountName }
              : { automountServiceAccountToken: false }),
            containers: [
              {
                name: 'main',
                image,
                imagePullPolicy: 'Never',
                command: ['node', '-e', script],
                ...RESTRICTED_CONTAINER,
              },
            ],
            volumes: [{ name: 'tmp', emptyDir: {} }],
          },
        },
      },
    },
  });
  const job = await waitFor(
    `Job ${name} to finish`,
    async () => {
      const current = await batch.readNamespacedJob({ name, namespace });
      return current.status?.conditions?.some(
        (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
      )
        ? current
        : undefined;
    },
    extra.timeoutMs ?? 90_000,
    250,
  );
  const pods = await core.listNamespacedPod({ namespace, labelSelector: `batch.kubernetes.io/job-name=${name}` });
  const pod = pods.items[0]!;
  const log = await core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace });
  return { job, pod, log };
}
