import { ApiException, type BatchV1Api, type CoreV1Api, type RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { runObjects, type RunInputs } from './run-objects.ts';
import { runName } from './run-names.ts';

export interface RunCleanup {
  deleteRunObjects(namespace: string, name: string): Promise<void>;
}

/** Creates and removes the objects of one run; every call is safe to repeat. */
export class RunLauncher implements RunCleanup {
  readonly #core: CoreV1Api;
  readonly #batch: BatchV1Api;
  readonly #rbac: RbacAuthorizationV1Api;

  constructor(core: CoreV1Api, batch: BatchV1Api, rbac: RbacAuthorizationV1Api) {
    this.#core = core;
    this.#batch = batch;
    this.#rbac = rbac;
  }

  /** The Job comes last: its pod may start only once its identity and result Secret exist. */
  async launch(inputs: RunInputs): Promise<string> {
    const o = runObjects(inputs);
    const namespace = inputs.mfa.metadata.namespace!;
    await ignoreExists(() => this.#core.createNamespacedServiceAccount({ namespace, body: o.serviceAccount }));
    await ignoreExists(() => this.#rbac.createNamespacedRole({ namespace, body: o.role }));
    await ignoreExists(() => this.#rbac.createNamespacedRoleBinding({ namespace, body: o.roleBinding }));
    await ignoreExists(() => this.#core.createNamespacedSecret({ namespace, body: o.resultSecret }));
    await ignoreExists(() => this.#batch.createNamespacedJob({ namespace, body: o.job }));
    return runName(inputs.run);
  }

  /** The Job itself stays, as the audit record, until its TTL. */
  async deleteRunObjects(namespace: string, name: string): Promise<void> {
    await ignoreMissing(() => this.#core.deleteNamespacedSecret({ namespace, name }));
    await ignoreMissing(() => this.#rbac.deleteNamespacedRoleBinding({ namespace, name }));
    await ignoreMissing(() => this.#rbac.deleteNamespacedRole({ namespace, name }));
    await ignoreMissing(() => this.#core.deleteNamespacedServiceAccount({ namespace, name }));
  }
}

async function ignoreExists(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (e: unknown) {
    if (!(e instanceof ApiException && e.code === 409)) throw e;
  }
}

async function ignoreMissing(remove: () => Promise<unknown>): Promise<void> {
  try {
    await remove();
  } catch (e: unknown) {
    if (!(e instanceof ApiException && e.code === 404)) throw e;
  }
}
