import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prepareVolumes, type VolumeSources } from './volumes.ts';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'job-runner-volumes-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

const container: V1Container = { name: 'runner', volumeMounts: [{ name: 'code-service-token', mountPath: '/var/run/mfa-operator/code-service' }] };

function pod(sources: object[]): V1Pod {
  return {
    metadata: { name: 'run-pod', namespace: 'team-a', uid: 'pod-uid' },
    spec: { serviceAccountName: 'run', containers: [container], volumes: [{ name: 'code-service-token', projected: { defaultMode: 0o400, sources } }] },
  } as V1Pod;
}

function volumeSources(asked: Array<[string | undefined, number | undefined]>): VolumeSources {
  return {
    reader: { secretData: async () => undefined, configMapData: async () => undefined }, caCertificate: 'CA',
    projectedToken: async (audience, expirationSeconds) => {
      asked.push([audience, expirationSeconds]);
      return `token-for-${audience}`;
    },
  };
}

describe('projected service account token volumes', () => {
  it('write a pod-bound token for the source\'s audience and lifetime at its path, read-only', async () => {
    const asked: Array<[string | undefined, number | undefined]> = [];

    const { mounts } = await prepareVolumes(pod([{ serviceAccountToken: { audience: 'mfa-operator.io/code-service', expirationSeconds: 600, path: 'token' } }]),
      container, dir, volumeSources(asked));

    expect(asked).toEqual([['mfa-operator.io/code-service', 600]]);
    const file = join(dir, 'volumes', 'code-service-token', 'token');
    expect(await readFile(file, 'utf8')).toBe('token-for-mfa-operator.io/code-service');
    expect((await stat(file)).mode & 0o777).toBe(0o400);
    expect(mounts).toContainEqual({ kind: 'dir', source: 'volumes/code-service-token', target: '/var/run/mfa-operator/code-service', readOnly: true });
  });

  it('refuse other projections with FailedMount', async () => {
    await expect(prepareVolumes(pod([{ downwardAPI: { items: [] } }]), container, dir, volumeSources([])))
      .rejects.toMatchObject({ reason: 'FailedMount' });
  });
});
