import {
  ApiException,
  type BatchV1Api,
  type CoreV1Api,
  type RbacAuthorizationV1Api,
  type V1Job,
  type V1Pod,
  type V1Secret,
} from '@kubernetes/client-node';

type Stored = {
  metadata?: { name?: string; namespace?: string; creationTimestamp?: Date; annotations?: Record<string, string> };
};

/**
 * The few API calls the job driver and the harvest make, over maps: a unit-test stand-in for the API server (the
 * real one is in test/envtest/). Objects are stored as given; reads return copies, as the API server would. Every call
 * is recorded in `calls` ("create Job team-a/x"), as an audit log would show it.
 */
export class InMemoryKube {
  readonly objects = new Map<string, Map<string, Stored>>();
  calls: string[] = [];
  #clock = Date.parse('2026-12-01T10:00:00Z');

  kind<T extends Stored>(kind: string): Map<string, T> {
    if (!this.objects.has(kind)) this.objects.set(kind, new Map());
    return this.objects.get(kind) as Map<string, T>;
  }

  jobs(): V1Job[] {
    return [...this.kind<V1Job>('Job').values()].map((j) => structuredClone(j));
  }

  secret(namespace: string, name: string): V1Secret | undefined {
    return this.kind<V1Secret>('Secret').get(`${namespace}/${name}`);
  }

  /** Creates or replaces a ConfigMap, with a new resourceVersion as the API server gives every write. */
  putConfigMap(namespace: string, name: string, data: Record<string, string>): void {
    this.#clock += 1000;
    this.kind('ConfigMap').set(`${namespace}/${name}`, {
      metadata: { name, namespace, resourceVersion: String(this.#clock) },
      data,
    } as Stored);
  }

  /**
   * Ends a run as the Job controller and kubelet would: the Job's final condition (at `at`, by default this API's own
   * clock) and the pod's termination message.
   */
  finishRun(namespace: string, name: string, outcome: Record<string, unknown>, at = new Date(this.#clock)): void {
    const job = this.kind<V1Job>('Job').get(`${namespace}/${name}`)!;
    const type = outcome.outcome === 'Failed' ? 'Failed' : 'Complete';
    job.status = {
      conditions: [
        {
          type,
          status: 'True',
          ...(type === 'Failed' ? { reason: 'BackoffLimitExceeded' } : {}),
          lastTransitionTime: at,
        },
      ],
    };
    const pod: V1Pod = {
      metadata: { name: `${name}-pod`, namespace, labels: { 'job-name': name } },
      status: {
        containerStatuses: [
          {
            name: 'runner',
            image: 'i',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: type === 'Failed' ? 1 : 0, message: JSON.stringify(outcome) } },
          },
        ],
      },
    };
    this.kind<V1Pod>('Pod').set(`${namespace}/${pod.metadata!.name}`, pod);
  }

  get core(): CoreV1Api {
    return {
      createNamespacedServiceAccount: async ({ namespace, body }: { namespace: string; body: Stored }) =>
        this.#create('ServiceAccount', namespace, body),
      createNamespacedSecret: async ({ namespace, body }: { namespace: string; body: Stored }) =>
        this.#create('Secret', namespace, body),
      readNamespacedSecret: async ({ namespace, name }: { namespace: string; name: string }) =>
        this.#read('Secret', namespace, name),
      readNamespacedConfigMap: async ({ namespace, name }: { namespace: string; name: string }) =>
        this.#read('ConfigMap', namespace, name),
      deleteNamespacedSecret: async ({ namespace, name }: { namespace: string; name: string }) =>
        this.#delete('Secret', namespace, name),
      deleteNamespacedServiceAccount: async ({ namespace, name }: { namespace: string; name: string }) =>
        this.#delete('ServiceAccount', namespace, name),
      listNamespacedPod: async ({ namespace, labelSelector }: { namespace: string; labelSelector: string }) => {
        this.calls.push(`list Pod ${namespace} ${labelSelector}`);
        const [key, value] = labelSelector.split('=');
        const items = [...this.kind<V1Pod>('Pod').values()].filter(
          (p) => p.metadata?.namespace === namespace && p.metadata?.labels?.[key!] === value,
        );
        return { items: structuredClone(items) };
      },
    } as unknown as CoreV1Api;
  }

  get rbac(): RbacAuthorizationV1Api {
    return {
      createNamespacedRole: async ({ namespace, body }: { namespace: string; body: Stored }) =>
        this.#create('Role', namespace, body),
      createNamespacedRoleBinding: async ({ namespace, body }: { namespace: string; body: Stored }) =>
        this.#create('RoleBinding', namespace, body),
      deleteNamespacedRole: async ({ namespace, name }: { namespace: string; name: string }) =>
        this.#delete('Role', namespace, name),
      deleteNamespacedRoleBinding: async ({ namespace, name }: { namespace: string; name: string }) =>
        this.#delete('RoleBinding', namespace, name),
    } as unknown as RbacAuthorizationV1Api;
  }

  get batch(): BatchV1Api {
    return {
      createNamespacedJob: async ({ namespace, body }: { namespace: string; body: Stored }) =>
        this.#create('Job', namespace, body),
      patchNamespacedJob: async ({ namespace, name, body }: { namespace: string; name: string; body: Stored }) => {
        this.calls.push(`patch Job ${namespace}/${name}`);
        const job = this.kind<V1Job>('Job').get(`${namespace}/${name}`);
        if (!job) throw notFound('Job', name);
        job.metadata = {
          ...job.metadata,
          annotations: { ...job.metadata?.annotations, ...body.metadata?.annotations },
        };
        return structuredClone(job);
      },
    } as unknown as BatchV1Api;
  }

  #create(kind: string, namespace: string, body: Stored): Stored {
    const key = `${namespace}/${body.metadata!.name}`;
    this.calls.push(`create ${kind} ${key}`);
    if (this.kind(kind).has(key)) throw new ApiException(409, `${kind} ${key} exists`, {}, {});
    this.#clock += 1000;
    const stored = structuredClone({
      ...body,
      metadata: { ...body.metadata, namespace, creationTimestamp: new Date(this.#clock) },
    });
    this.kind(kind).set(key, stored);
    return structuredClone(stored);
  }

  #read(kind: string, namespace: string, name: string): Stored {
    this.calls.push(`get ${kind} ${namespace}/${name}`);
    const found = this.kind(kind).get(`${namespace}/${name}`);
    if (!found) throw notFound(kind, name);
    return structuredClone(found);
  }

  #delete(kind: string, namespace: string, name: string): object {
    this.calls.push(`delete ${kind} ${namespace}/${name}`);
    if (!this.kind(kind).delete(`${namespace}/${name}`)) throw notFound(kind, name);
    return {};
  }
}

function notFound(kind: string, name: string): ApiException<object> {
  return new ApiException(404, `${kind} ${name} not found`, {}, {});
}
