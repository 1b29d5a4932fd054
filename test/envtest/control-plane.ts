import { KubeConfig } from '@kubernetes/client-node';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findControlPlaneBinaries, type ControlPlaneBinaries } from './binaries.ts';
import { CertificateDirectory, readKeyPair, type KeyPair } from './certificates.ts';
import { trackDirectory, untrackDirectory } from './cleanup.ts';
import { writeAuditPolicy } from './audit-policy.ts';
import { ControlPlaneError } from './errors.ts';
import { startEtcd, type RunningEtcd } from './etcd.ts';
import { apiServerAddress, startApiServer, type ApiServerSettings } from './kube-apiserver.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import type { ManagedProcess } from './managed-process.ts';
import { freeLoopbackPort } from './ports.ts';
import type { TlsClientOptions } from './readiness.ts';

export interface ControlPlaneOptions {
  /** How long etcd and kube-apiserver each may take to become ready; default 120 s. */
  startTimeoutMs?: number;
  /** Log every API request (Metadata level: verb, resource, user, code) to auditLogPath. */
  auditLog?: boolean;
  /** More kube-apiserver flags, after the defaults. */
  apiServerArgs?: readonly string[];
  /** Where KUBEBUILDER_ASSETS is read from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Serve a cluster with a node and pods (test/cluster) instead of loopback clients only. */
  cluster?: ClusterNetworkOptions;
  /**
   * Configure the front proxy as envtest and kubeadm do (a requestheader CA, one allowed name, the X-Remote-*
   * headers, a proxy client certificate), so kube-apiserver can proxy aggregated APIs (APIService) with the user.
   */
  frontProxy?: boolean;
}

export interface ClusterNetworkOptions {
  /** An address of this machine that pods reach: bound, advertised and used by every client. */
  address: string;
  serviceClusterIpRange: string;
  /** More serving-certificate names than 127.0.0.1 and address: the `kubernetes` Service's IP and DNS names. */
  servingHosts: readonly string[];
}

/** Files the cluster's other components are configured with. */
export interface ControlPlaneFiles {
  /** The CA that signed kube-apiserver's serving certificate (the pods' ca.crt). */
  servingCa: string;
  /** The CA kube-apiserver trusts for client certificates. */
  clientCa: string;
  /** The service-account signing key (kube-controller-manager's token controller). */
  serviceAccountKey: string;
  /** With frontProxy: the requestheader CA, and the client certificate kube-apiserver proxies with. */
  frontProxy?: { ca: KeyPair; client: KeyPair; allowedName: string };
}

/** A running kube-apiserver + etcd pair on loopback with throwaway certificates. */
export interface ControlPlane {
  /** https://127.0.0.1:PORT */
  readonly server: string;
  /** Kubeconfig of `admin`, in group system:masters (can also read /metrics). */
  readonly kubeconfigPath: string;
  /** The admin's TLS client options for raw HTTPS requests (e.g. /metrics). */
  readonly admin: TlsClientOptions;
  /** The audit log when started with auditLog, one JSON event per line. */
  readonly auditLogPath: string | undefined;
  readonly files: ControlPlaneFiles;
  /** Process ids of etcd and the current kube-apiserver. */
  processIds(): { etcd: number; kubeApiServer: number };
  /** A client-node KubeConfig for the admin user. */
  kubeConfig(): KubeConfig;
  /** Mints a client-certificate user (CN=name, O=groups) and returns its kubeconfig path. */
  createUser(name: string, groups?: readonly string[]): Promise<string>;
  /** Stops kube-apiserver and starts it again on the same port and etcd; `whileStopped` runs in between. */
  restartApiServer(whileStopped?: () => Promise<void>): Promise<void>;
  /** Stops both processes and removes every file; safe to call twice. */
  stop(): Promise<void>;
}

const DEFAULT_START_TIMEOUT_MS = 120_000;
const FRONT_PROXY_CLIENT = 'front-proxy-client';
const PORT_ATTEMPTS = 3;

interface Authorities {
  servingCa: KeyPair;
  clientCa: KeyPair;
  serving: KeyPair;
  serviceAccount: KeyPair;
}

async function createAuthorities(
  certificates: CertificateDirectory,
  servingHosts: readonly string[],
): Promise<Authorities> {
  const [servingCa, clientCa, serviceAccount] = await Promise.all([
    certificates.createCertificateAuthority('serving-ca'),
    certificates.createCertificateAuthority('client-ca'),
    certificates.createServiceAccountKeys(),
  ]);
  const serving = await certificates.issueServingCertificate('kube-apiserver', servingCa, servingHosts);
  return { servingCa, clientCa, serving, serviceAccount };
}

class LocalControlPlane implements ControlPlane {
  readonly server: string;
  readonly kubeconfigPath: string;
  readonly admin: TlsClientOptions;
  readonly auditLogPath: string | undefined;
  readonly files: ControlPlaneFiles;
  readonly #workDir: string;
  readonly #certificates: CertificateDirectory;
  readonly #clientCa: KeyPair;
  readonly #settings: ApiServerSettings;
  readonly #timeoutMs: number;
  readonly #etcd: RunningEtcd;
  #apiServer: ManagedProcess;
  #stopped = false;

  constructor(parts: {
    workDir: string;
    certificates: CertificateDirectory;
    clientCa: KeyPair;
    settings: ApiServerSettings;
    admin: TlsClientOptions;
    timeoutMs: number;
    etcd: RunningEtcd;
    apiServer: ManagedProcess;
    files: ControlPlaneFiles;
  }) {
    this.#workDir = parts.workDir;
    this.#certificates = parts.certificates;
    this.#clientCa = parts.clientCa;
    this.#settings = parts.settings;
    this.#timeoutMs = parts.timeoutMs;
    this.#etcd = parts.etcd;
    this.#apiServer = parts.apiServer;
    this.admin = parts.admin;
    this.server = `https://${apiServerAddress(parts.settings)}:${parts.settings.port}`;
    this.files = parts.files;
    this.kubeconfigPath = join(parts.workDir, 'users', 'admin.kubeconfig');
    this.auditLogPath = parts.settings.audit?.logPath;
  }

  processIds(): { etcd: number; kubeApiServer: number } {
    return { etcd: this.#etcd.process.pid, kubeApiServer: this.#apiServer.pid };
  }

  kubeConfig(): KubeConfig {
    const config = new KubeConfig();
    config.loadFromFile(this.kubeconfigPath);
    return config;
  }

  async createUser(name: string, groups: readonly string[] = []): Promise<string> {
    const pair = await this.#certificates.issueClientCertificate(name, groups, this.#clientCa);
    const { cert, key } = await readKeyPair(pair);
    const path = join(this.#workDir, 'users', `${name}.kubeconfig`);
    await writeKubeconfig(path, this.server, this.admin.ca, { name, cert, key });
    return path;
  }

  async restartApiServer(whileStopped?: () => Promise<void>): Promise<void> {
    await this.#apiServer.stop();
    await whileStopped?.();
    this.#apiServer = await startApiServer(this.#settings, this.admin, this.#timeoutMs);
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#apiServer.stop();
    await this.#etcd.process.stop();
    await rm(this.#workDir, { recursive: true, force: true });
    untrackDirectory(this.#workDir);
  }
}

function isPortTaken(error: unknown): boolean {
  return (
    error instanceof ControlPlaneError &&
    error.reason === 'ProcessExited' &&
    error.message.includes('address already in use')
  );
}

/** Starts etcd, then kube-apiserver; ports that another process took meanwhile are picked again. */
async function startServers(
  binaries: ControlPlaneBinaries,
  settings: Omit<ApiServerSettings, 'port' | 'etcdUrl'>,
  admin: TlsClientOptions,
  timeoutMs: number,
): Promise<{ etcd: RunningEtcd; apiServer: ManagedProcess; settings: ApiServerSettings }> {
  for (let attempt = 1; ; attempt++) {
    let etcd: RunningEtcd | undefined;
    try {
      etcd = await startEtcd(binaries.etcd, settings.workDir, timeoutMs);
      const full = { ...settings, port: await freeLoopbackPort(), etcdUrl: etcd.url };
      const apiServer = await startApiServer(full, admin, timeoutMs);
      return { etcd, apiServer, settings: full };
    } catch (e: unknown) {
      await etcd?.process.stop();
      if (attempt >= PORT_ATTEMPTS || !isPortTaken(e)) throw e;
      await rm(join(settings.workDir, 'etcd-data'), { recursive: true, force: true });
    }
  }
}

async function frontProxyFiles(
  certificates: CertificateDirectory,
  wanted: boolean | undefined,
): Promise<ControlPlaneFiles['frontProxy']> {
  if (!wanted) return undefined;
  const ca = await certificates.createCertificateAuthority('front-proxy-ca');
  const client = await certificates.issueClientCertificate(FRONT_PROXY_CLIENT, [], ca);
  return { ca, client, allowedName: FRONT_PROXY_CLIENT };
}

/** The requestheader flags kube-apiserver publishes in kube-system/extension-apiserver-authentication. */
function frontProxyArgs(files: ControlPlaneFiles['frontProxy']): string[] {
  if (!files) return [];
  return [
    `--requestheader-client-ca-file=${files.ca.certPath}`,
    `--requestheader-allowed-names=${files.allowedName}`,
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-uid-headers=X-Remote-Uid',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${files.client.certPath}`,
    `--proxy-client-key-file=${files.client.keyPath}`,
  ];
}

/**
 * Starts a local control plane like controller-runtime's envtest: kube-apiserver and etcd from
 * KUBEBUILDER_ASSETS, on loopback, with a throwaway CA, an admin user and RBAC on. Everything
 * lives in one temporary directory that stop() (or the process exiting) removes.
 */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binaries = findControlPlaneBinaries(options.env);
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const workDir = await mkdtemp(join(tmpdir(), 'mfa-envtest-'));
  trackDirectory(workDir);
  try {
    const certificates = await CertificateDirectory.create(workDir);
    const servingHosts = options.cluster ? [options.cluster.address, ...options.cluster.servingHosts] : [];
    const authorities = await createAuthorities(certificates, servingHosts);
    const adminPair = await certificates.issueClientCertificate('admin', ['system:masters'], authorities.clientCa);
    const admin = { ...(await readKeyPair(adminPair)), ca: (await readKeyPair(authorities.servingCa)).cert };
    const audit = options.auditLog
      ? { policyPath: join(workDir, 'audit-policy.yaml'), logPath: join(workDir, 'audit.log') }
      : undefined;
    if (audit) await writeAuditPolicy(audit.policyPath);
    await mkdir(join(workDir, 'users'), { mode: 0o700 });
    const frontProxy = await frontProxyFiles(certificates, options.frontProxy);
    const started = await startServers(
      binaries,
      {
        binary: binaries.kubeApiServer,
        workDir,
        serving: authorities.serving,
        clientCa: authorities.clientCa,
        serviceAccount: authorities.serviceAccount,
        audit,
        extraArgs: [...frontProxyArgs(frontProxy), ...(options.apiServerArgs ?? [])],
        cluster: options.cluster && {
          address: options.cluster.address,
          serviceClusterIpRange: options.cluster.serviceClusterIpRange,
          kubeletClient: adminPair,
        },
      },
      admin,
      timeoutMs,
    );
    const plane = new LocalControlPlane({
      workDir,
      certificates,
      clientCa: authorities.clientCa,
      settings: started.settings,
      admin,
      timeoutMs,
      etcd: started.etcd,
      apiServer: started.apiServer,
      files: {
        servingCa: authorities.servingCa.certPath,
        clientCa: authorities.clientCa.certPath,
        serviceAccountKey: authorities.serviceAccount.keyPath,
        ...(frontProxy ? { frontProxy } : {}),
      },
    });
    try {
      await writeKubeconfig(plane.kubeconfigPath, plane.server, admin.ca, {
        name: 'admin',
        cert: admin.cert,
        key: admin.key,
      });
    } catch (e: unknown) {
      await plane.stop();
      throw e;
    }
    return plane;
  } catch (e: unknown) {
    await rm(workDir, { recursive: true, force: true });
    untrackDirectory(workDir);
    throw e;
  }
}
