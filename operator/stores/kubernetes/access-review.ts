import { AuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { StoreValidation, StoreValidationReason } from '../provider.ts';
import { isStoreError, type StoreErrorReason } from '../store-error.ts';
import { toStoreError } from './api-errors.ts';

/** Everything the provider does to Secrets; config/rbac must grant exactly these. */
export const REQUIRED_SECRET_VERBS = ['get', 'create', 'update', 'delete'] as const;

const VALIDATION_REASONS: Partial<Record<StoreErrorReason, StoreValidationReason>> = {
  AuthFailed: 'AuthFailed',
  PermissionDenied: 'PermissionDenied',
  NotFound: 'NotFound',
};

/**
 * Checks with SelfSubjectAccessReviews (allowed to every authenticated user) that the operator's
 * identity may do what the provider does, without touching any Secret.
 */
export class AccessReview {
  readonly #api: AuthorizationV1Api;
  readonly #namespace: string | undefined;

  constructor(kubeConfig: KubeConfig, namespace: string | undefined) {
    this.#api = kubeConfig.makeApiClient(AuthorizationV1Api);
    this.#namespace = namespace;
  }

  async validate(): Promise<StoreValidation> {
    const scope = this.#namespace ? `namespace ${this.#namespace}` : 'all namespaces';
    try {
      const denied: string[] = [];
      for (const verb of REQUIRED_SECRET_VERBS) {
        if (!(await this.#allowed(verb))) denied.push(verb);
      }
      if (denied.length === 0) return { ready: true };
      return {
        ready: false,
        reason: 'PermissionDenied',
        message: `The operator may not ${denied.join(', ')} Secrets in ${scope}; grant ${REQUIRED_SECRET_VERBS.join(', ')} on secrets there.`,
      };
    } catch (e: unknown) {
      const error = toStoreError(e, `reviewing access to Secrets in ${scope}`);
      if (!isStoreError(error)) throw error;
      return { ready: false, reason: VALIDATION_REASONS[error.reason] ?? 'Unreachable', message: error.message };
    }
  }

  async #allowed(verb: string): Promise<boolean> {
    const review = await this.#api.createSelfSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { namespace: this.#namespace ?? '', verb, resource: 'secrets' } },
      },
    });
    return review.status?.allowed === true;
  }
}
