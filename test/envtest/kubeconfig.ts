import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

export interface KubeconfigUser {
  name: string;
  cert: string;
  key: string;
}

const base64 = (pem: string): string => Buffer.from(pem, 'utf8').toString('base64');

/** Writes a self-contained kubeconfig (certificates embedded) for one user of one server. */
export async function writeKubeconfig(
  path: string,
  server: string,
  caPem: string,
  user: KubeconfigUser,
): Promise<void> {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'envtest', cluster: { server, 'certificate-authority-data': base64(caPem) } }],
    users: [
      {
        name: user.name,
        user: { 'client-certificate-data': base64(user.cert), 'client-key-data': base64(user.key) },
      },
    ],
    contexts: [{ name: user.name, context: { cluster: 'envtest', user: user.name, namespace: 'default' } }],
    'current-context': user.name,
    preferences: {},
  };
  await writeFile(path, stringify(config), { mode: 0o600 });
}
