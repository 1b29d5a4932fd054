import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { defaultAssetsDirectory } from '../envtest/binaries.ts';
import { ClusterError } from './errors.ts';

export interface NodeBinaries {
  kubelet: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubeProxy: string;
  containerd: string;
  containerdShim: string;
  ctr: string;
  /** The sandbox image, an OCI archive (hack/control-plane/build-node.sh). */
  pauseImage: string;
  runc: string;
  cniPlugins: string;
}

const FILES = {
  kubelet: 'kubelet',
  kubeControllerManager: 'kube-controller-manager',
  kubeScheduler: 'kube-scheduler',
  kubeProxy: 'kube-proxy',
  containerd: 'containerd',
  containerdShim: 'containerd-shim-runc-v2',
  ctr: 'ctr',
  pauseImage: 'pause.oci.tar',
} as const;

function present(path: string, mode = constants.X_OK): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

/** The directory the Makefile's MFA_NODE_ASSETS defaults to, beside KUBEBUILDER_ASSETS's. */
export function defaultNodeAssetsDirectory(env: NodeJS.ProcessEnv = process.env): string {
  return `${defaultAssetsDirectory(env)}-node`;
}

/** Finds the node's binaries in MFA_NODE_ASSETS (make node builds them) and runc and CNI from Debian. */
export function findNodeBinaries(env: NodeJS.ProcessEnv = process.env): NodeBinaries {
  const assets = env.MFA_NODE_ASSETS || defaultNodeAssetsDirectory(env);
  const built = Object.fromEntries(Object.entries(FILES).map(([key, file]) => [key, join(assets, file)])) as Record<
    keyof typeof FILES,
    string
  >;
  const missing = Object.entries(built).filter(
    ([key, path]) => !present(path, key === 'pauseImage' ? constants.R_OK : constants.X_OK),
  );
  if (missing.length > 0) {
    throw new ClusterError(
      'NodeBinariesMissing',
      `MFA_NODE_ASSETS (${assets}) lacks ${missing.map(([, p]) => p.split('/').at(-1)).join(', ')}: run \`make node\``,
    );
  }
  const debian = { runc: '/usr/sbin/runc', cniPlugins: '/usr/lib/cni' };
  if (
    !present(debian.runc) ||
    !present(join(debian.cniPlugins, 'bridge')) ||
    !present(join(debian.cniPlugins, 'host-local'))
  ) {
    throw new ClusterError(
      'HostToolMissing',
      'runc or the CNI plugins (bridge, host-local) are missing: run `make node-packages` (Debian runc, containernetworking-plugins)',
    );
  }
  return { ...built, ...debian };
}
