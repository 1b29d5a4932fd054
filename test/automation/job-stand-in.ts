import type { BatchV1Api, CoreV1Api } from '@kubernetes/client-node';

/**
 * What the Job controller and kubelet write when a run ends, for tests on an API server without them: a pod of the
 * Job whose runner container terminated with `outcome` as its termination message, and the Job's finished status.
 */
export async function finishJob(
  core: CoreV1Api,
  batch: BatchV1Api,
  namespace: string,
  name: string,
  outcome: Record<string, unknown>,
): Promise<void> {
  const now = new Date();
  const failed = outcome.outcome === 'Failed';
  const pod = await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: `${name}-pod`, labels: { 'job-name': name } },
      spec: { containers: [{ name: 'runner', image: 'runner:test' }] },
    },
  });
  await core.replaceNamespacedPodStatus({
    namespace,
    name: pod.metadata!.name!,
    body: {
      ...pod,
      status: {
        phase: failed ? 'Failed' : 'Succeeded',
        containerStatuses: [
          {
            name: 'runner',
            image: 'runner:test',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: {
              terminated: {
                exitCode: failed ? 1 : 0,
                message: JSON.stringify(outcome),
                startedAt: now,
                finishedAt: now,
              },
            },
          },
        ],
      },
    },
  });
  const job = await batch.readNamespacedJob({ namespace, name });
  const conditions = failed
    ? [
        {
          type: 'FailureTarget',
          status: 'True',
          reason: 'BackoffLimitExceeded',
          message: 'failed',
          lastTransitionTime: now,
          lastProbeTime: now,
        },
        {
          type: 'Failed',
          status: 'True',
          reason: 'BackoffLimitExceeded',
          message: 'failed',
          lastTransitionTime: now,
          lastProbeTime: now,
        },
      ]
    : [
        {
          type: 'SuccessCriteriaMet',
          status: 'True',
          reason: 'CompletionsReached',
          message: 'done',
          lastTransitionTime: now,
          lastProbeTime: now,
        },
        {
          type: 'Complete',
          status: 'True',
          reason: 'CompletionsReached',
          message: 'done',
          lastTransitionTime: now,
          lastProbeTime: now,
        },
      ];
  await batch.replaceNamespacedJobStatus({
    namespace,
    name,
    body: {
      ...job,
      status: {
        startTime: now,
        ...(failed ? { failed: 1 } : { succeeded: 1, completionTime: now }),
        conditions,
      },
    },
  });
}
