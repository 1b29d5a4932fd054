import { join } from 'node:path';
import type { KeyPair } from './certificates.ts';
import { ManagedProcess } from './managed-process.ts';
import { waitUntilServing, type TlsClientOptions } from './readiness.ts';

export interface ApiServerSettings {
  binary: string;
  workDir: string;
  port: number;
  etcdUrl: string;
  serving: KeyPair;
  clientCa: KeyPair;
  serviceAccount: KeyPair;
  audit: { policyPath: string; logPath: string } | undefined;
  extraArgs: readonly string[];
}

/**
 * The flags controller-runtime's envtest starts kube-apiserver with: client-certificate users,
 * RBAC, no ServiceAccount admission (no controller-manager creates default service accounts),
 * and service-account token signing so that tokens work as in a cluster.
 */
export function apiServerArgs(settings: ApiServerSettings): string[] {
  const serverUrl = `https://127.0.0.1:${settings.port}`;
  const audit = settings.audit
    ? [`--audit-policy-file=${settings.audit.policyPath}`, `--audit-log-path=${settings.audit.logPath}`]
    : [];
  return [
    `--etcd-servers=${settings.etcdUrl}`,
    `--secure-port=${settings.port}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--cert-dir=${join(settings.workDir, 'kube-apiserver-certs')}`,
    `--tls-cert-file=${settings.serving.certPath}`,
    `--tls-private-key-file=${settings.serving.keyPath}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--allow-privileged=true',
    '--disable-admission-plugins=ServiceAccount',
    '--authorization-mode=RBAC',
    `--service-account-issuer=${serverUrl}/`,
    `--service-account-key-file=${settings.serviceAccount.certPath}`,
    `--service-account-signing-key-file=${settings.serviceAccount.keyPath}`,
    `--client-ca-file=${settings.clientCa.certPath}`,
    ...audit,
    ...settings.extraArgs,
  ];
}

/** Starts kube-apiserver and waits until /readyz answers the admin user. */
export async function startApiServer(
  settings: ApiServerSettings,
  admin: TlsClientOptions,
  timeoutMs: number,
): Promise<ManagedProcess> {
  const apiServer = await ManagedProcess.start(
    'kube-apiserver',
    settings.binary,
    apiServerArgs(settings),
    join(settings.workDir, 'kube-apiserver.log'),
  );
  try {
    await waitUntilServing(apiServer, `https://127.0.0.1:${settings.port}/readyz`, timeoutMs, admin);
  } catch (e: unknown) {
    await apiServer.stop();
    throw e;
  }
  return apiServer;
}
