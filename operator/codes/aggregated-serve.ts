import type { Server } from 'node:https';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../core/logging/logger.ts';
import { listenAggregatedApi, secureContextOf, type AggregatedApiParts } from './aggregated-api.ts';
import type { TlsFiles } from './code-service.ts';
import { readFrontProxyTrust, type FrontProxyTrust } from './front-proxy.ts';
import { reloadEvery } from './tls-reload.ts';

export interface ServedAggregatedApi {
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * Reads the front proxy's trust from kube-apiserver's ConfigMap, serves the aggregated API, and re-reads both the
 * ConfigMap (kube-apiserver rewrites it when its requestheader CA rotates) and the serving pair (cert-manager renews
 * it in place) every `reloadMs`; a failed read keeps what is served.
 */
export async function serveAggregatedApi(
  kc: KubeConfig,
  parts: Omit<AggregatedApiParts, 'trust'>,
  readTls: () => Promise<TlsFiles>,
  listen: { port: number; host?: string; reloadMs: number },
  log: Logger,
): Promise<ServedAggregatedApi> {
  const core = kc.makeApiClient(CoreV1Api);
  let trust: FrontProxyTrust = await readFrontProxyTrust(core);
  const tls = await readTls();
  const { server, port } = await listenAggregatedApi({ ...parts, trust: () => trust }, tls, listen.port, listen.host);
  const reload = reloadEvery(
    listen.reloadMs,
    {
      initial: { trust, tls },
      read: async () => ({ trust: await readFrontProxyTrust(core), tls: await readTls() }),
      // Names and headers too: each is read per request, and may change without the CA.
      same: (a, b) => JSON.stringify(a) === JSON.stringify(b),
      apply: (next) => {
        server.setSecureContext(secureContextOf(next.tls, next.trust));
        trust = next.trust;
      },
      what: 'aggregated API certificate or requestheader CA',
    },
    log,
  );
  log.info({ port }, 'serving codes through kube-apiserver (APIService codes.mfa-operator.io/v1alpha1)');
  return { port, stop: () => stop(server, reload) };
}

function stop(server: Server, reload: NodeJS.Timeout): Promise<void> {
  clearInterval(reload);
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
