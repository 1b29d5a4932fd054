import type { Server } from 'node:https';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../core/logging/logger.ts';
import { listenAggregatedApi, secureContextOf, type AggregatedApiParts } from './aggregated-api.ts';
import type { TlsFiles } from './code-service.ts';
import { readFrontProxyTrust, type FrontProxyTrust } from './front-proxy.ts';

export interface ServedAggregatedApi {
  readonly port: number;
  stop(): Promise<void>;
}

/** kube-apiserver rewrites the ConfigMap when its requestheader CA rotates, and cert-manager renews the pair. */
const RELOAD_MS = 60_000;

/**
 * Reads the front proxy's trust from kube-apiserver's ConfigMap, serves the aggregated API, and re-reads both the
 * ConfigMap and the serving pair every minute (a failed read keeps what is served).
 */
export async function serveAggregatedApi(
  kc: KubeConfig,
  parts: Omit<AggregatedApiParts, 'trust'>,
  readTls: () => Promise<TlsFiles>,
  listen: { port: number; host?: string },
  log: Logger,
): Promise<ServedAggregatedApi> {
  const core = kc.makeApiClient(CoreV1Api);
  let trust: FrontProxyTrust = await readFrontProxyTrust(core);
  let tls = await readTls();
  const { server, port } = await listenAggregatedApi({ ...parts, trust: () => trust }, tls, listen.port, listen.host);
  const reload = setInterval(() => {
    Promise.all([readFrontProxyTrust(core), readTls()]).then(
      ([nextTrust, nextTls]) => {
        const changed = nextTrust.clientCa !== trust.clientCa || nextTls.cert !== tls.cert || nextTls.key !== tls.key;
        trust = nextTrust;
        tls = nextTls;
        if (!changed) return;
        server.setSecureContext(secureContextOf(tls, trust));
        log.info('aggregated API certificate or requestheader CA reloaded');
      },
      (e: unknown) =>
        log.warn(
          { error: e instanceof Error ? e.message : String(e) },
          'aggregated API trust or certificate could not be re-read; keeping the current ones',
        ),
    );
  }, RELOAD_MS);
  reload.unref();
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
