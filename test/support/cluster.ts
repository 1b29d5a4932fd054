import { fileURLToPath } from 'node:url';
import { startControlPlane, type ControlPlane } from '../envtest/control-plane.ts';
import { kubectlOk } from './kubectl.ts';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** A fresh control plane with the project's CRDs installed and established. */
export async function startClusterWithCrds(
  options: Parameters<typeof startControlPlane>[0] = {},
): Promise<ControlPlane> {
  const cp = await startControlPlane(options);
  try {
    await kubectlOk(cp.kubeconfigPath, ['apply', '--server-side', '-f', `${REPO}/config/crd/bases`]);
    await kubectlOk(cp.kubeconfigPath, [
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd',
      '-l',
      'app.kubernetes.io/name=mfa-operator',
    ]);
    return cp;
  } catch (err) {
    await cp.stop();
    throw err;
  }
}
