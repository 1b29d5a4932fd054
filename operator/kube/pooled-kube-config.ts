import { KubeConfig } from '@kubernetes/client-node';

/**
 * A copy of `kc` whose API clients share one connection pool. client-node 2.0.1 builds a new pool
 * for every request, so every API call pays a TCP and TLS handshake: the controller makes about seven
 * calls per reconcile, the code service up to three per code (TokenReview, SubjectAccessReview, the
 * resource). Headers (bearer tokens, re-read token files) are still applied per request; only the
 * connections are kept. The pool has no per-host connection limit, so watches never starve requests.
 */
export function pooledKubeConfig(kc: KubeConfig): { kc: KubeConfig; close(): Promise<void> } {
  const pooled = new KubeConfig();
  pooled.loadFromOptions({
    clusters: kc.clusters,
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  const apply = pooled.applySecurityAuthentication.bind(pooled);
  let pool: ReturnType<Parameters<KubeConfig['applySecurityAuthentication']>[0]['getDispatcher']>;
  pooled.applySecurityAuthentication = async (context) => {
    await apply(context);
    const fresh = context.getDispatcher();
    if (!fresh) return;
    if (!pool) {
      pool = fresh;
      return;
    }
    context.setDispatcher(pool);
    // The pool made for this request never opened a connection; closing it frees it at once.
    void fresh.close();
  };
  return { kc: pooled, close: async () => pool?.close() };
}
