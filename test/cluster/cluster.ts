import { CoreV1Api, RbacAuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '../envtest/control-plane.ts';
import type { ManagedProcess } from '../envtest/managed-process.ts';
import { findNodeBinaries, type NodeBinaries } from './binaries.ts';
import { cleanHost } from './clean-host.ts';
import { CGROUP_ROOT, startControllerManager, startKubelet, startKubeProxy, startScheduler } from './components.ts';
import { Containerd, PAUSE_IMAGE } from './containerd.ts';
import { createCgroupRoot } from './cgroups.ts';
import { ClusterError } from './errors.ts';
import { claimHost, releaseHost, type HostState } from './host-claim.ts';
import { host } from './host-command.ts';
import { NETWORK, NODE_NAME } from './network-plan.ts';
import { createNodeNetwork, writeCniConfig } from './node-network.ts';

export interface ClusterOptions {
  /** Images (podman's local storage) to load into the node's containerd; unchanged ones are kept. */
  images?: readonly string[];
  /** How long each component may take to become ready; default 120 s. */
  startTimeoutMs?: number;
  /** How long to wait for another local cluster on this machine to finish; default 20 min. */
  claimWaitMs?: number;
  /** Called with each start step and how long it took, e.g. `containerd ready 0.4 s`. */
  progress?: (line: string) => void;
  /** Log every API request to plane.auditLogPath (as test/envtest's auditLog). */
  auditLog?: boolean;
}

/** A one-node cluster on this machine: the control plane, a real kubelet and containerd. */
export interface LocalCluster {
  readonly plane: ControlPlane;
  readonly nodeName: string;
  /** Component logs (kubelet.log, containerd.log, ...) and configuration. */
  readonly workDir: string;
  /** kubelet's pod log directory: `<namespace>_<pod>_<uid>/<container>/<n>.log`, CRI format. */
  readonly podLogsDir: string;
  kubeConfig(): KubeConfig;
  /** Loads an image from podman's storage into the node, unless the same image is there. */
  loadImage(image: string): Promise<void>;
  /**
   * Stops kubelet (its pods keep running under containerd, as on a real node whose kubelet dies), runs
   * `whileStopped`, and starts it again on the same state; resolves once the node is Ready again.
   */
  restartKubelet(whileStopped?: () => Promise<void>): Promise<void>;
  /** Stops everything and puts the host back as it was; safe to call twice. */
  stop(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const cacheDir = () => process.env.MFA_OPERATOR_CACHE || join(homedir(), '.cache', 'mfa-operator');

function preflight(): NodeBinaries {
  if (process.getuid?.() !== 0) {
    throw new ClusterError(
      'NotRoot',
      'the local cluster runs kubelet, containerd and kube-proxy, which need root: run the tests as root (CI does)',
    );
  }
  return findNodeBinaries();
}

async function waitUntil<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  watched: readonly ManagedProcess[],
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const dead = watched.find((p) => p.exit);
    if (dead)
      throw new ClusterError(
        'NodeNotReady',
        `${dead.name} exited (${JSON.stringify(dead.exit)}) while waiting for ${what}:\n${dead.tail()}`,
      );
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (e: unknown) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) {
      throw new ClusterError(
        'NodeNotReady',
        `${what} did not happen within ${timeoutMs} ms${last ? ` (last error: ${last})` : ''}:\n${watched.map((p) => `--- ${p.name}\n${p.tail(8)}`).join('\n')}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

class Cluster implements LocalCluster {
  readonly nodeName = NODE_NAME;
  readonly workDir: string;
  readonly podLogsDir: string;
  plane!: ControlPlane;
  binaries!: NodeBinaries;
  containerdSocket = '';
  timeoutMs = DEFAULT_TIMEOUT_MS;
  containerd: Containerd | undefined;
  components: ManagedProcess[] = [];
  readonly #state: HostState;
  #stopped = false;

  constructor(workDir: string, state: HostState) {
    this.workDir = workDir;
    this.podLogsDir = join(workDir, 'pod-logs');
    this.#state = state;
  }

  startKubelet(): Promise<ManagedProcess> {
    const dirs = {
      work: this.workDir,
      kubeletRoot: join(this.workDir, 'kubelet'),
      podLogs: this.podLogsDir,
      containerdSocket: this.containerdSocket,
    };
    return startKubelet(this.plane, this.binaries, dirs);
  }

  async waitNodeReady(): Promise<void> {
    const core = this.plane.kubeConfig().makeApiClient(CoreV1Api);
    await waitUntil(
      `node ${NODE_NAME} Ready`,
      this.timeoutMs,
      async () => {
        const node = await core.readNode({ name: NODE_NAME });
        return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
      },
      [...this.components, this.containerd!.process],
    );
  }

  async restartKubelet(whileStopped?: () => Promise<void>): Promise<void> {
    const index = this.components.findIndex((c) => c.name === 'kubelet');
    await this.components[index]!.stop();
    await whileStopped?.();
    this.components[index] = await this.startKubelet();
    await this.waitNodeReady();
  }

  kubeConfig(): KubeConfig {
    return this.plane.kubeConfig();
  }

  async loadImage(image: string): Promise<void> {
    const inspected = await host('podman', ['image', 'inspect', '--format', '{{.Id}}', image], { allowFailure: true });
    if (inspected.code !== 0)
      throw new ClusterError(
        'ImageLoadFailed',
        `image ${image} is not in podman's storage: run \`make image IMG=${image}\``,
      );
    const id = inspected.stdout.trim();
    const label = `mfa-operator.io/podman-image-id=${id}`;
    if (await this.containerd!.hasImage(image, label)) return;
    // One archive per image: startCluster loads several at once.
    const archive = join(this.workDir, `image-${id.slice(0, 12)}.tar`);
    await host('podman', ['save', '--format', 'docker-archive', '--output', archive, image], {
      timeoutMs: 10 * 60_000,
    });
    try {
      await this.containerd!.importArchive(archive, image, label);
    } finally {
      await rm(archive, { force: true });
    }
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#deletePods();
    for (const component of [...this.components].reverse()) await component.stop();
    if (this.containerd) {
      await this.containerd.removeEverything();
      await this.containerd.killShims();
      await this.containerd.process.stop();
    }
    // The host is released only once it is clean; otherwise the next start finds the claim
    // of a dead process and runs cleanHost again.
    await cleanHost(this.#state);
    await this.plane?.stop();
    await releaseHost();
  }

  /** Lets kubelet stop every pod as it would (CNI DEL included) before the processes go. */
  async #deletePods(): Promise<void> {
    if (!this.plane || !this.components.some((c) => c.name === 'kubelet' && !c.exit)) return;
    try {
      const core = this.plane.kubeConfig().makeApiClient(CoreV1Api);
      const namespaces = await core.listNamespace();
      for (const ns of namespaces.items)
        await core.deleteCollectionNamespacedPod({ namespace: ns.metadata!.name!, gracePeriodSeconds: 0 });
      await waitUntil(
        'every pod to be gone',
        30_000,
        async () => ((await core.listPodForAllNamespaces()).items.length === 0 ? true : undefined),
        [],
      );
    } catch {
      // Best effort: the forced cleanup below removes whatever kubelet did not.
    }
  }
}

/**
 * Starts a one-node cluster in the spirit of Kubernetes' hack/local-up-cluster.sh: etcd and
 * kube-apiserver (test/envtest, on the node's address), kube-controller-manager, kube-scheduler,
 * containerd with runc and the bridge CNI plugin, kubelet and kube-proxy. Needs root. Every
 * address is in 198.18.0.0/15 (network-plan.ts); stop() puts the host back as it was.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<LocalCluster> {
  const binaries = preflight();
  const began = Date.now();
  let last = began;
  const step = <T>(what: string, value: T): T => {
    const now = Date.now();
    options.progress?.(
      `${what} (${((now - last) / 1000).toFixed(1)} s, ${((now - began) / 1000).toFixed(1)} s in all)`,
    );
    last = now;
    return value;
  };
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const workDir = await mkdtemp(join(tmpdir(), 'mfa-cluster-'));
  const containerdSocket = join(workDir, 'containerd', 'containerd.sock');
  const state = await claimHost(workDir, containerdSocket, options.claimWaitMs ?? 20 * 60_000, cleanHost);
  step('host claimed', state);
  const cluster = new Cluster(workDir, state);
  cluster.binaries = binaries;
  cluster.containerdSocket = containerdSocket;
  cluster.timeoutMs = timeoutMs;
  try {
    await createNodeNetwork();
    await createCgroupRoot(CGROUP_ROOT);
    const cniConfDir = join(workDir, 'cni', 'net.d');
    await writeCniConfig(cniConfDir, join(workDir, 'cni', 'ipam'));
    await mkdir(cluster.podLogsDir, { recursive: true });
    const [plane, containerd] = await Promise.all([
      startControlPlane({
        startTimeoutMs: timeoutMs,
        auditLog: options.auditLog ?? false,
        // As kubeadm sets it up: kube-apiserver can proxy aggregated APIs (the chart's codes.mfa-operator.io).
        frontProxy: true,
        cluster: {
          address: NETWORK.nodeAddress,
          serviceClusterIpRange: NETWORK.serviceRange,
          servingHosts: [
            NETWORK.kubernetesServiceAddress,
            'kubernetes',
            'kubernetes.default',
            'kubernetes.default.svc',
            'kubernetes.default.svc.cluster.local',
          ],
        },
      }),
      Containerd.start(
        binaries,
        {
          root: join(cacheDir(), 'node', 'containerd'),
          state: join(workDir, 'containerd', 'state'),
          socket: containerdSocket,
          cniConfDir,
        },
        workDir,
        timeoutMs,
      ),
    ]);
    step('control plane and containerd ready', plane);
    cluster.plane = plane;
    cluster.containerd = containerd;
    await containerd.importArchive(binaries.pauseImage, PAUSE_IMAGE);
    step('sandbox image loaded', plane);
    await plane
      .kubeConfig()
      .makeApiClient(RbacAuthorizationV1Api)
      .createClusterRoleBinding({
        body: {
          metadata: { name: 'mfa-operator:node' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node' },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: `system:node:${NODE_NAME}` }],
        },
      });
    cluster.components.push(
      await startControllerManager(plane, binaries, workDir),
      await startScheduler(plane, binaries, workDir),
      await cluster.startKubelet(),
      await startKubeProxy(plane, binaries, workDir),
    );
    step('controller-manager, scheduler, kubelet, kube-proxy started', plane);
    const imagesLoaded = Promise.all((options.images ?? []).map((image) => cluster.loadImage(image)));
    const core = plane.kubeConfig().makeApiClient(CoreV1Api);
    const watched = [...cluster.components, containerd.process];
    await cluster.waitNodeReady();
    step('node Ready', plane);
    await waitUntil(
      'the default ServiceAccount',
      timeoutMs,
      async () => (await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' })) ?? undefined,
      watched,
    );
    await imagesLoaded;
    step('images loaded', plane);
    return cluster;
  } catch (e: unknown) {
    await cluster.stop().catch(() => undefined);
    await rm(workDir, { recursive: true, force: true });
    throw e;
  }
}
