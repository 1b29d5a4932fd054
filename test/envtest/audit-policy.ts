import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

/**
 * One Metadata-level event per finished request (verb, resource, namespace, user, code), no
 * bodies: enough to count API requests per resource without writing object contents to disk.
 */
export async function writeAuditPolicy(path: string): Promise<void> {
  const policy = {
    apiVersion: 'audit.k8s.io/v1',
    kind: 'Policy',
    omitStages: ['RequestReceived'],
    rules: [{ level: 'Metadata' }],
  };
  await writeFile(path, stringify(policy));
}
