import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ControlPlane } from '../envtest/control-plane.ts';
import { ManagedProcess } from '../envtest/managed-process.ts';
import { freeLoopbackPort } from '../envtest/ports.ts';
import type { NodeBinaries } from './binaries.ts';
import { NETWORK, NODE_NAME } from './network-plan.ts';

/** The cgroup (in every hierarchy) that holds the node's pods; teardown removes it. */
export const CGROUP_ROOT = '/mfa-operator-node';

/** Component users: kube-apiserver's bootstrap RBAC already binds each of these names. */
const USERS = {
  controllerManager: 'system:kube-controller-manager',
  scheduler: 'system:kube-scheduler',
  proxy: 'system:kube-proxy',
  kubelet: `system:node:${NODE_NAME}`,
} as const;

export interface NodeDirectories {
  work: string;
  kubeletRoot: string;
  podLogs: string;
  containerdSocket: string;
}

/** kube-controller-manager with every default controller: job, garbage collector, token, service account ... */
export async function startControllerManager(
  plane: ControlPlane,
  binaries: NodeBinaries,
  work: string,
): Promise<ManagedProcess> {
  const kubeconfig = await plane.createUser(USERS.controllerManager);
  return ManagedProcess.start(
    'kube-controller-manager',
    binaries.kubeControllerManager,
    [
      `--kubeconfig=${kubeconfig}`,
      `--service-account-private-key-file=${plane.files.serviceAccountKey}`,
      `--root-ca-file=${plane.files.servingCa}`,
      '--use-service-account-credentials=true',
      '--controllers=*',
      '--leader-elect=false',
      '--secure-port=0',
      `--cluster-cidr=${NETWORK.podSubnet}`,
      `--service-cluster-ip-range=${NETWORK.serviceRange}`,
    ],
    join(work, 'kube-controller-manager.log'),
  );
}

export async function startScheduler(
  plane: ControlPlane,
  binaries: NodeBinaries,
  work: string,
): Promise<ManagedProcess> {
  const kubeconfig = await plane.createUser(USERS.scheduler);
  return ManagedProcess.start(
    'kube-scheduler',
    binaries.kubeScheduler,
    [`--kubeconfig=${kubeconfig}`, '--leader-elect=false', '--secure-port=0'],
    join(work, 'kube-scheduler.log'),
  );
}

/** kube-proxy in iptables mode, told not to touch conntrack limits or route_localnet. */
export async function startKubeProxy(
  plane: ControlPlane,
  binaries: NodeBinaries,
  work: string,
): Promise<ManagedProcess> {
  const kubeconfig = await plane.createUser(USERS.proxy);
  const config = {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig },
    mode: 'iptables',
    hostnameOverride: NODE_NAME,
    bindAddress: NETWORK.nodeAddress,
    clusterCIDR: NETWORK.podSubnet,
    detectLocalMode: 'ClusterCIDR',
    nodePortAddresses: [`${NETWORK.nodeAddress}/32`],
    healthzBindAddress: `127.0.0.1:${await freeLoopbackPort()}`,
    metricsBindAddress: `127.0.0.1:${await freeLoopbackPort()}`,
    iptables: { localhostNodePorts: false, masqueradeAll: false },
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
  };
  const path = join(work, 'kube-proxy.yaml');
  await writeFile(path, stringify(config));
  return ManagedProcess.start('kube-proxy', binaries.kubeProxy, [`--config=${path}`], join(work, 'kube-proxy.log'));
}

/**
 * kubelet on cgroup v1 or v2 with the cgroupfs driver, its state in the cluster's directory,
 * no host DNS for pods, and eviction thresholds that a busy shared disk does not trip.
 */
export async function startKubelet(
  plane: ControlPlane,
  binaries: NodeBinaries,
  dirs: NodeDirectories,
): Promise<ManagedProcess> {
  const kubeconfig = await plane.createUser(USERS.kubelet, ['system:nodes']);
  const config = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: NETWORK.nodeAddress,
    port: await freeLoopbackPort(),
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: await freeLoopbackPort(),
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: false },
      x509: { clientCAFile: plane.files.clientCa },
    },
    authorization: { mode: 'AlwaysAllow' },
    cgroupDriver: 'cgroupfs',
    cgroupRoot: CGROUP_ROOT,
    failCgroupV1: false,
    failSwapOn: false,
    containerRuntimeEndpoint: `unix://${dirs.containerdSocket}`,
    podLogsDir: dirs.podLogs,
    resolvConf: '',
    evictionHard: {
      'memory.available': '1Mi',
      'nodefs.available': '1%',
      'imagefs.available': '1%',
      'nodefs.inodesFree': '1%',
      'imagefs.inodesFree': '1%',
    },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    serializeImagePulls: false,
    maxPods: 30,
    nodeStatusUpdateFrequency: '4s',
    shutdownGracePeriod: '0s',
  };
  const path = join(dirs.work, 'kubelet.yaml');
  await writeFile(path, stringify(config));
  return ManagedProcess.start(
    'kubelet',
    binaries.kubelet,
    [
      `--config=${path}`,
      `--kubeconfig=${kubeconfig}`,
      `--root-dir=${dirs.kubeletRoot}`,
      `--cert-dir=${join(dirs.kubeletRoot, 'pki')}`,
      `--node-ip=${NETWORK.nodeAddress}`,
      `--hostname-override=${NODE_NAME}`,
    ],
    join(dirs.work, 'kubelet.log'),
  );
}
