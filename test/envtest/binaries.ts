import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ControlPlaneError } from './errors.ts';

export interface ControlPlaneBinaries {
  kubeApiServer: string;
  etcd: string;
}

const KUBERNETES_VERSION_FILE = new URL('../../hack/control-plane/KUBERNETES_VERSION', import.meta.url);

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The directory the Makefile defaults KUBEBUILDER_ASSETS to, so a bare `npx vitest` finds it too. */
export function defaultAssetsDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.MFA_OPERATOR_CACHE || join(homedir(), '.cache', 'mfa-operator');
  const version = readFileSync(KUBERNETES_VERSION_FILE, 'utf8').trim();
  return join(cache, 'k8s', version);
}

/**
 * Finds kube-apiserver and etcd the way controller-runtime's envtest does: in the directory
 * that KUBEBUILDER_ASSETS names (make sets it; a user may point it at envtest binaries they
 * already have). Unset, it is the directory where `make control-plane` builds them.
 */
export function findControlPlaneBinaries(env: NodeJS.ProcessEnv = process.env): ControlPlaneBinaries {
  const assets = env.KUBEBUILDER_ASSETS || defaultAssetsDirectory(env);
  const binaries = { kubeApiServer: join(assets, 'kube-apiserver'), etcd: join(assets, 'etcd') };
  const missing = Object.values(binaries).filter((path) => !isExecutable(path));
  if (missing.length > 0) {
    const origin = env.KUBEBUILDER_ASSETS ? 'KUBEBUILDER_ASSETS' : 'the default KUBEBUILDER_ASSETS';
    throw new ControlPlaneError(
      'BinariesMissing',
      `${origin} (${assets}) lacks executable ${missing.join(' and ')}: run ` +
        '`make control-plane` to build them, or set KUBEBUILDER_ASSETS to a directory that ' +
        'holds kube-apiserver and etcd.',
    );
  }
  return binaries;
}
